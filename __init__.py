"""ComfyUI entry point: ComfyUI imports this file from custom_nodes/<folder>/."""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

# Served by ComfyUI at /extensions/<folder name>/. Set here only, not also in pyproject's [tool.comfy]:
# both would register the scripts twice.
WEB_DIRECTORY = "./js"

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]


def _register_routes():
    """The Settings entry's routes, only inside a running ComfyUI server; the nodes never depend on them."""
    try:
        from server import PromptServer
    except ImportError:  # outside ComfyUI: tests, the command-line demo
        return
    routes = getattr(getattr(PromptServer, "instance", None), "routes", None)
    if routes is None:
        return
    try:
        from .nodes.routes import register

        register(routes)
    except Exception as exc:  # a broken Settings entry must not cost the user the nodes
        from .nodes.common.log import logger

        logger.warning("The Settings panel's routes could not be registered (%s); the nodes work without them.", exc)


_register_routes()

"""ComfyUI entry point: ComfyUI imports this file from custom_nodes/<folder>/."""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

# Served by ComfyUI at /extensions/<folder name>/. Set here only, not also in pyproject's [tool.comfy]:
# both would register the scripts twice.
WEB_DIRECTORY = "./js"

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

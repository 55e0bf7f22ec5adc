"""HTTP routes the pack adds to ComfyUI's server (Settings panel): key, usage and limits."""

from . import key_routes, usage_routes


def register(routes):
    """Add every route to an aiohttp RouteTableDef (PromptServer.instance.routes inside ComfyUI)."""
    if any(getattr(route, "path", "").startswith(key_routes.ROUTE_PREFIX + "/") for route in routes):
        return routes  # loaded twice: aiohttp refuses a second handler for the same method and path
    key_routes.register(routes)
    usage_routes.register(routes)
    return routes

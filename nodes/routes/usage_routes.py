"""HTTP routes behind the Settings panel's usage and limits: what the pack spent, and the spend limits.

`GET /segmind_motionctrl/usage` answers today's and this month's spend and call counts (from the usage
ledger) and the limits in force with where each comes from; no key, no paths. `POST /segmind_motionctrl/limits`
changes the limits saved server-side (JSON only, same-origin only, like every state-changing route); a limit
set by an environment variable wins and cannot be changed there, and the answer says so.
"""

import json

from aiohttp import web

from ..common.log import redact
from ..common.paths import ledger_file, settings_file
from ..common.settings import BY_ATTR, SettingError, load_settings
from ..common.stored_settings import read_stored, update_stored
from ..jobs.ledger import ledger_for
from ..segmind.contract import PRICE_PER_CALL
from .guard import guarded, own_page_only, read_body

ROUTE_PREFIX = "/segmind_motionctrl"
LIMITS = ("max_calls_per_run", "daily_budget")
MAX_BODY_BYTES = 4096


def usage_answer(environ=None):
    settings = load_settings(environ, stored=read_stored(settings_file()))
    totals = ledger_for(ledger_file()).totals()
    limits = {attr: {"value": getattr(settings, attr), "source": settings.sources[attr],
                     "variable": BY_ATTR[attr].name} for attr in LIMITS}
    return {**totals, "limits": limits, "price_per_call": PRICE_PER_CALL}


def _answer(data, status=200):
    return web.Response(text=redact(json.dumps(data)), status=status, content_type="application/json")


@own_page_only
async def handle_usage(request):
    try:
        return _answer(usage_answer())
    except SettingError as exc:  # a malformed variable: its message names it and the fix
        return _answer({"error": str(exc)}, 400)


@guarded
async def handle_limits(request):
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not set(body) <= set(LIMITS) or not body:
        return _answer({"error": 'Send a JSON object with "max_calls_per_run" and/or "daily_budget" (null resets '
                                 'one to its default).'}, 400)
    try:
        current = load_settings(stored=read_stored(settings_file()))
    except SettingError as exc:
        return _answer({"error": str(exc)}, 400)
    fixed = [BY_ATTR[a].name for a in body if current.sources[a] == "env"]
    if fixed:
        return _answer({"error": f"{', '.join(fixed)} is set in ComfyUI's environment, which wins over Settings: "
                                 "change or unset it there and restart ComfyUI."}, 409)
    try:
        update_stored(settings_file(), body)
    except SettingError as exc:
        return _answer({"error": str(exc)}, 400)
    except OSError as exc:
        return _answer({"error": f"Could not save the limits: {exc.strerror or 'error'}"}, 500)
    return _answer(usage_answer())


def register(routes):
    routes.get(f"{ROUTE_PREFIX}/usage")(handle_usage)
    routes.post(f"{ROUTE_PREFIX}/limits")(handle_limits)
    return routes

"""HTTP routes behind the pack's Settings entry: save, inspect, remove and test the Segmind API key.

The browser hands the key over once; from then on it lives only in the key file (owner-only permissions) that
the node reads. No route ever answers with the key: callers get "set, ends in ...abcd" at most, because
ComfyUI's HTTP API has no authentication and anything it returns can be read by any client that reaches it.
For the same reason the key file's path is told only to clients on this machine, and every route that changes
something goes through guard.py, so that web pages on other sites cannot save or delete a key.

No "cached" cost hint is served from here: the node's cache key is a hash of the input image's pixels, and an
unexecuted graph's image exists only after its upstream nodes run (LoadImage is just the simplest case), so the
server cannot tell cheaply. The frontend says "$0 if the image is unchanged" when the widgets match the last
run instead, which it can know for free.
"""

import asyncio
import json
import os
import secrets
from pathlib import Path

from aiohttp import web

from ..common import errors as E
from ..common.api_key import (CONSOLE_URL, ENV_VAR, PASTED_PLACE, check_key, file_place, key_from_env,
                              read_key_file)
from ..common.settings import load_settings
from ..common.log import logger, redact
from ..common.paths import key_file
from ..segmind.client import SegmindClient
from .guard import guarded, is_local_client, own_page_only, read_body

ROUTE_PREFIX = "/segmind_motionctrl"
MAX_BODY_BYTES = 4096
HINT_CHARS = 4
# Shorter keys would give away too large a share of themselves in the "ends in" hint.
MIN_LENGTH_FOR_HINT = 12


class KeyRejected(ValueError):
    """Input that is not a plausible key; the message is shown to the user as is and never quotes the key."""


# ---- the key itself ---------------------------------------------------------------------------------------

def validate_key(raw):
    """The pasted key, cleaned and checked by the same rules as the environment variable and the key file."""
    if not isinstance(raw, str):
        raise KeyRejected('Send the key as a JSON string: {"key": "..."}.')
    try:
        key = check_key(raw, PASTED_PLACE)
    except E.InvalidApiKeyError as exc:
        raise KeyRejected(str(exc)) from None
    if not key:
        raise KeyRejected(f"The key is empty. Copy it from {CONSOLE_URL} and paste it.")
    return key


def key_hint(key):
    if not key:
        return None
    return "…" + key[-HINT_CHARS:] if len(key) >= MIN_LENGTH_FOR_HINT else "…"


def write_key_file(path, key):
    """Replace the key file in one step; the new file is owner-only from the moment it exists."""
    path = Path(path)
    _ensure_private_dir(path.parent)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through a file or symlink someone planted under the temporary name.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # an unusual umask could have left the owner without read access
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(key.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        temp.unlink(missing_ok=True)
        raise


def _ensure_private_dir(folder):
    if folder.is_dir():
        return  # an existing folder's permissions are the user's choice
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(folder, 0o700)


def delete_key_file(path):
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    return True


def key_status(environ=None, show_path=True):
    """Which key the node would use, described without the key: the environment variable wins over the file.

    A value the node would refuse is reported as not set, with the reason in `problem`. `show_path=False`
    (an answer to another machine) leaves the key file's path out, also from that reason.
    """
    path = key_file()
    env_key, env_problem = _checked(key_from_env, environ)
    file_key, file_problem = _checked(read_key_file, path, file_place(path if show_path else None))
    if env_key or env_problem:
        source, key, problem = "env", env_key, env_problem
    elif file_key or file_problem:
        source, key, problem = "file", file_key, file_problem
    else:
        source, key, problem = None, "", None
    status = {"set": bool(key), "hint": key_hint(key), "source": source, "file_set": bool(file_key)}
    if show_path:
        status["path"] = str(path)
    if problem:
        status["problem"] = problem
    if source == "env":
        status["note"] = (f"{ENV_VAR} is set in ComfyUI's environment, so the node uses that key; a key saved here "
                          f"is used only once {ENV_VAR} is unset and ComfyUI restarted.")
    return status


def _checked(read, *args):
    """(key, None), or ("", the reason) when the place holds a value the node would refuse."""
    try:
        return read(*args), None
    except E.InvalidApiKeyError as exc:
        return "", str(exc)


# ---- free key check ---------------------------------------------------------------------------------------

def check_key_answer(key, base_url):
    """The test route's answer: ok (the key works), or why not; `checked` says whether Segmind judged the key."""
    hint = key_hint(key)
    try:
        client = SegmindClient(key, base_url=base_url, connect_timeout=5.0, poll_read_timeout=15.0,
                               connect_retries=0, poll_failures=0, rate_limit_retries=0)
        credits, free_credits = client.credits()
    except (E.AuthenticationError, E.PermissionDeniedError) as exc:
        return {"ok": False, "checked": True, "credits": None,
                "message": f"{exc}. The key tested ends in {hint}; copy a current one from "
                           "https://cloud.segmind.com/console/api-keys and save it again."}
    except E.EndpointNotFoundError as exc:
        return {"ok": False, "checked": False, "credits": None,
                "message": f"{exc} The key was not tested; the first run will tell (a bad key is refused before "
                           "anything is billed)."}
    except E.SegmindError as exc:
        return {"ok": False, "checked": False, "credits": None, "message": f"Could not test the key: {exc}"}
    except Exception as exc:  # the answer must never carry a library's own text: it can quote request headers
        logger.warning("The key test failed unexpectedly (%s).", type(exc).__name__)
        return {"ok": False, "checked": False, "credits": None,
                "message": "The key test failed inside the pack (ComfyUI's log names the kind of error; the "
                           "details are withheld because they could quote the key). Nothing was billed."}
    return {"ok": True, "checked": True, "credits": credits, "free_credits": free_credits,
            "message": _credits_message(hint, credits, free_credits)}


def _credits_message(hint, credits, free_credits):
    text = f"Segmind accepted the key ending in {hint}"
    if credits is not None:
        text += f"; credits: {credits:.2f}"
        if free_credits:
            text += f" (+{free_credits:.2f} free)"
        if credits + (free_credits or 0) < 0.089:
            text += ", not enough for one MotionCtrl call (about $0.089)"
    return text + ". Checking it cost nothing."


# ---- aiohttp handlers -------------------------------------------------------------------------------------

def _answer(data, status=200):
    # Redact the serialised text as a last line of defence: every key these routes see is registered first.
    return web.Response(text=redact(json.dumps(data)), status=status, content_type="application/json")


def _refuse(message, status=400):
    return _answer({"error": message}, status)


def _is_local(request):
    return is_local_client(request.remote, request.headers)


def _file_words(request, path):
    """The key file as error messages name it: its path only for a client on this machine."""
    return f"the key file {path}" if _is_local(request) else "the pack's key file"


async def _read_key(request):
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise KeyRejected('The request body must be JSON: {"key": "..."}.') from None
    if not isinstance(body, dict) or "key" not in body:
        raise KeyRejected('The request body must be a JSON object with a "key" field.')
    return validate_key(body["key"])


@guarded
async def handle_save(request):
    try:
        key = await _read_key(request)
    except KeyRejected as exc:
        return _refuse(str(exc))
    path = key_file()
    try:
        write_key_file(path, key)
    except OSError as exc:
        logger.warning("Could not save the Segmind API key to %s: %s", path, exc)
        return _refuse(f"Could not write {_file_words(request, path)}: {exc.strerror or 'error'}", status=500)
    logger.info("Segmind API key saved to %s (ends in %s).", path, key_hint(key))
    status = key_status()
    answer = {"set": True, "hint": key_hint(key), "source": status["source"]}
    if status["source"] == "env":
        answer["warning"] = " ".join(filter(None, (status["note"], status.get("problem"))))
    return _answer(answer)


@own_page_only
async def handle_status(request):
    return _answer(key_status(show_path=_is_local(request)))


@guarded
async def handle_clear(request):
    path = key_file()
    try:
        deleted = delete_key_file(path)
    except OSError as exc:
        return _refuse(f"Could not delete {_file_words(request, path)}: {exc.strerror or 'error'}", status=500)
    if deleted:
        logger.info("Segmind API key file %s deleted.", path)
    return _answer({"deleted": deleted, **key_status(show_path=_is_local(request))})


@guarded
async def handle_test(request):
    path = key_file()
    try:
        settings = load_settings()
        # The node's order (the environment variable wins), with the file's path named only to this machine.
        key = key_from_env() or read_key_file(path, file_place(path if _is_local(request) else None))
    except E.InvalidApiKeyError as exc:  # its message names the place and never quotes the value
        return _answer({"ok": False, "checked": False, "credits": None, "message": str(exc)})
    except ValueError as exc:  # a malformed SEGMIND_* variable: its own message says which and how to fix it
        return _answer({"ok": False, "checked": False, "credits": None, "message": str(exc)})
    if not key:
        return _answer({"ok": False, "checked": False, "credits": None,
                        "message": f"No key is set: save one first (or set {ENV_VAR})."})
    # requests blocks; ComfyUI's event loop also serves the UI and the websocket.
    answer = await asyncio.get_running_loop().run_in_executor(None, check_key_answer, key, settings.base_url)
    return _answer(answer)


def register(routes):
    """Add the key routes to an aiohttp RouteTableDef (see routes/__init__.py)."""
    routes.get(f"{ROUTE_PREFIX}/key")(handle_status)
    routes.post(f"{ROUTE_PREFIX}/key")(handle_save)
    routes.delete(f"{ROUTE_PREFIX}/key")(handle_clear)
    routes.post(f"{ROUTE_PREFIX}/key/clear")(handle_clear)
    routes.post(f"{ROUTE_PREFIX}/key/test")(handle_test)
    return routes

"""Everything the pack takes from ComfyUI, imported lazily and guarded.

Outside ComfyUI (tests, the command-line demo) each helper falls back to a plain-Python behaviour, so the
nodes run anywhere. Only this module and the node modules know ComfyUI exists.
"""

import importlib
import io
import os
from pathlib import Path

from .common.log import logger


def _module(name):
    try:
        return importlib.import_module(name)
    except Exception:  # ComfyUI absent, or an older build without that module
        return None


# ---- cancel and progress ---------------------------------------------------------------------------------

def interrupted():
    mm = _module("comfy.model_management")
    return bool(mm is not None and mm.processing_interrupted())


def raise_interrupt(cause):
    """ComfyUI's own interrupt exception (so the UI shows "interrupted", not an error), else ours."""
    mm = _module("comfy.model_management")
    exc_type = getattr(mm, "InterruptProcessingException", None) if mm else None
    if exc_type is None:
        raise cause
    try:
        mm.throw_exception_if_processing_interrupted()  # clears the flag the way ComfyUI expects
    except exc_type:
        pass
    raise exc_type() from cause


class Progress:
    """ComfyUI's progress bar and the one-line text shown on the node; silent outside ComfyUI."""

    def __init__(self, node_id, total=100):
        self.node_id = node_id
        self.total = total
        utils = _module("comfy.utils")
        self._bar = None
        if utils is not None and hasattr(utils, "ProgressBar"):
            try:
                self._bar = utils.ProgressBar(total, node_id=node_id)
            except TypeError:  # older ComfyUI: no node_id argument
                self._bar = utils.ProgressBar(total)

    def update(self, value):
        if self._bar is not None:
            try:
                self._bar.update_absolute(max(0, min(self.total, value)), self.total)
            except Exception as exc:
                # ComfyUI's hook raises its interrupt exception here on cancel: that one must propagate.
                if type(exc).__name__ == "InterruptProcessingException":
                    raise
                logger.debug("Progress bar update failed: %s", exc)

    def text(self, message):
        send_text(self.node_id, message)


def current_prompt_id():
    """The id of the queued run (prompt) this node belongs to, or None outside ComfyUI.

    ComfyUI sets a context variable per node task (comfy_execution.utils.get_executing_context), which an async
    node's coroutine sees; PromptServer.last_prompt_id is the fallback for older builds (set per prompt).
    """
    utils = _module("comfy_execution.utils")
    getter = getattr(utils, "get_executing_context", None) if utils else None
    if getter is not None:
        try:
            context = getter()
        except Exception:
            context = None
        if context is not None and getattr(context, "prompt_id", None):
            return str(context.prompt_id)
    server = _module("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None) if server else None
    prompt_id = getattr(instance, "last_prompt_id", None)
    return str(prompt_id) if prompt_id else None


def send_event(event, data):
    """A websocket event for the pack's frontend. `data` must be plain JSON (ComfyUI dies on anything else)."""
    server = _module("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None) if server else None
    if instance is None or not hasattr(instance, "send_sync"):
        return
    try:
        import json

        json.dumps(data)  # refuse here what would otherwise kill ComfyUI's message loop
        instance.send_sync(event, data, getattr(instance, "client_id", None))
    except Exception as exc:
        logger.debug("Could not send the %s event: %s", event, exc)


def send_text(node_id, message):
    server = _module("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None) if server else None
    if instance is None or node_id is None or not hasattr(instance, "send_progress_text"):
        return
    try:
        instance.send_progress_text(message, node_id)
    except Exception as exc:  # the status line is a nicety; never fail a paid run over it
        logger.debug("Could not send node text: %s", exc)


# ---- async nodes -----------------------------------------------------------------------------------------

ASYNC_SINCE = (0, 3, 44)  # ComfyUI awaits a coroutine FUNCTION (and runs other nodes meanwhile) from here on


def executor_awaits_coroutines():
    """Whether this ComfyUI awaits an `async def` FUNCTION; True outside ComfyUI (the tests' executor does)."""
    version = _module("comfyui_version")
    text = getattr(version, "__version__", None) if version else None
    if not text:
        return True
    try:
        return tuple(int(part) for part in text.split(".")[:3]) >= ASYNC_SINCE
    except ValueError:
        return True


def blocking_on_old_comfyui(node_class):
    """On a ComfyUI older than 0.3.44, give the node a plain FUNCTION that runs its coroutine to the end (the
    node then blocks the executor, as every node did there); newer ones get the coroutine itself."""
    if executor_awaits_coroutines():
        return node_class
    import asyncio

    name = node_class.FUNCTION

    def blocking(self, **inputs):
        return asyncio.run(getattr(self, name)(**inputs))
    setattr(node_class, name + "_blocking", blocking)
    node_class.FUNCTION = name + "_blocking"
    return node_class


# ---- folders ---------------------------------------------------------------------------------------------

def user_dir():
    """ComfyUI's user directory (survives pack updates), or None outside ComfyUI."""
    fp = _module("folder_paths")
    getter = getattr(fp, "get_user_directory", None) if fp else None
    return Path(getter()) if getter else None


def temp_dir():
    fp = _module("folder_paths")
    if fp is not None and hasattr(fp, "get_temp_directory"):
        return Path(fp.get_temp_directory())
    return Path(os.environ.get("TMPDIR") or "/tmp") / "segmind_motionctrl"


# ---- VIDEO -----------------------------------------------------------------------------------------------

def video_from_mp4(data):
    """ComfyUI's native VIDEO (so SaveVideo stream-copies it, no re-encode), else a plain holder."""
    impl = _module("comfy_api.input_impl")
    if impl is not None and hasattr(impl, "VideoFromFile"):
        return impl.VideoFromFile(io.BytesIO(data))
    return Mp4Video(data)


def video_from_frames(frames, fps):
    """A VIDEO of several clips joined (a batch): ComfyUI encodes it when saved."""
    impl = _module("comfy_api.input_impl")
    util = _module("comfy_api.util")
    if impl is not None and util is not None and hasattr(impl, "VideoFromComponents"):
        from fractions import Fraction

        return impl.VideoFromComponents(util.VideoComponents(images=frames, frame_rate=Fraction(fps).limit_denominator(1000)))
    return FramesVideo(frames, fps)


class Mp4Video:
    """Stand-in VIDEO outside ComfyUI: the MP4 bytes as returned, with the calls scripts need."""

    def __init__(self, data):
        self.data = data

    def save_to(self, path, **_ignored):
        Path(path).write_bytes(self.data)

    def get_components(self):
        from .media.video_codec import decode_video

        return decode_video(self.data)


class FramesVideo:
    def __init__(self, frames, fps):
        self.frames = frames
        self.fps = fps

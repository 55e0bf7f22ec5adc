"""The paid node: MotionCtrl SVD on Segmind's API, inside a ComfyUI graph."""

import time

from . import node_inputs
from .comfy_bridge import Progress, interrupted, raise_interrupt
from .common.config import load_settings
from .common.errors import CancelledError
from .jobs.batch import COST_PER_CALL, run_batch
from .node_outputs import frames_of, node_result
from .common.paths import cache_dir, concurrency, key_file
from .jobs.cache import ResultCache
from .segmind.client import SegmindClient


SETTINGS_PLACE = "paste it in ComfyUI's Settings > Segmind MotionCtrl > Segmind API key (it is saved to that file)"


class SegmindMotionCtrlSVD(node_inputs.MotionCtrlNodeBase):
    DESCRIPTION = (
        "Animates a still image into a 14-frame video whose camera follows the chosen motion (pan, zoom or "
        "roll), using MotionCtrl-SVD on Segmind's API. Costs about $0.09 and takes about 60 s per image; "
        "identical runs are served from a local cache for free. Needs a Segmind API key: paste it in Settings > Segmind "
        "MotionCtrl, or set SEGMIND_API_KEY, or put it in ComfyUI/user/segmind_motionctrl/api_key.txt (never in "
        "the workflow).")
    FUNCTION = "generate"

    def generate(self, image, unique_id=None, **widgets):
        params = node_inputs.params_from(widgets)
        settings = load_settings()
        progress = Progress(unique_id)
        started = time.monotonic()
        ticker = _Ticker(progress)

        def client_factory():
            return SegmindClient.from_env(key_files=[key_file()], other_places=[SETTINGS_PLACE])

        try:
            clips = run_batch(image, params, base_url=settings.base_url, client_factory=client_factory,
                              cache=ResultCache(cache_dir()), concurrency=concurrency(),
                              should_cancel=interrupted, on_tick=ticker)
        except CancelledError as exc:
            raise_interrupt(exc)
        frames = frames_of([c.video for c in clips])
        status = status_line(clips, time.monotonic() - started)
        progress.update(progress.total)
        progress.text(status)
        return node_result(frames, params["fps"], [c.video for c in clips], status, "segmind_motionctrl")


class _Ticker:
    """Feeds ComfyUI's progress bar every tick and the node's status text when it changes."""

    def __init__(self, progress):
        self.progress = progress
        self.last_text = None

    def __call__(self, status):
        self.progress.update(status.fraction() * self.progress.total)
        text = status.text()
        if text != self.last_text:
            self.last_text = text
            self.progress.text(text)


def status_line(clips, seconds):
    paid = [c for c in clips if c.source != "cache"]
    parts = [f"{len(clips)} clip{'s' if len(clips) > 1 else ''} in {seconds:.0f} s"]
    if not paid:
        parts.append("from cache, $0")
    else:
        costs = [c.meta.get("cost") for c in paid]
        known = [c for c in costs if c is not None]
        cost = sum(known) if len(known) == len(costs) else COST_PER_CALL * len(paid)
        approx = "" if len(known) == len(costs) else "~"
        parts.append(f"{approx}${cost:.3f}")
        cached = len(clips) - len(paid)
        if cached:
            parts.append(f"{cached} from cache")
    credits = [c.meta.get("remaining_credits") for c in paid if c.meta.get("remaining_credits") is not None]
    if credits:
        parts.append(f"credits left {min(credits):.2f}")
    return "Segmind: " + ", ".join(parts)

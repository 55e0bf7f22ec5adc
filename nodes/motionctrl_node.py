"""The paid node: MotionCtrl SVD on Segmind's API, inside a ComfyUI graph.

Its FUNCTION is a coroutine, so ComfyUI runs several paid nodes of one graph side by side (it parks a
pending async node and runs the other ready ones); all the waiting happens in the job engine's threads.
"""

import asyncio
import time

from . import node_inputs
from .jobs.batch import run_batch
from .jobs.engine import get_engine
from .node_outputs import node_result
from .node_run import NodeRun, run_paid
from .segmind.contract import PRICE_PER_CALL


class SegmindMotionCtrlSVD(node_inputs.MotionCtrlNodeBase):
    DESCRIPTION = (
        "Animates a still image into a 14-frame video whose camera follows the chosen motion (pan, zoom or "
        "roll), using MotionCtrl-SVD on Segmind's API. Costs about $0.09 and takes about 60 s per image; "
        "identical runs are served from a local cache for free. Needs a Segmind API key: paste it in Settings > Segmind "
        "MotionCtrl, or set SEGMIND_API_KEY, or put it in ComfyUI/user/segmind_motionctrl/api_key.txt (never in "
        "the workflow).")
    FUNCTION = "generate"

    async def generate(self, image, unique_id=None, **widgets):
        params = node_inputs.params_from(widgets)
        run = NodeRun(unique_id)
        outcome = await run_paid(run, lambda env: run_batch(image, params, **env))
        status = status_line(outcome.clips, time.monotonic() - run.started) + run.budget_note
        result = await asyncio.get_running_loop().run_in_executor(
            get_engine().workers, node_result, outcome.frames, params["fps"], [c.video for c in outcome.clips],
            status, "segmind_motionctrl")
        run.done(status)
        return result


def status_line(clips, seconds):
    paid = [c for c in clips if c.source != "cache"]
    parts = [f"{len(clips)} clip{'s' if len(clips) > 1 else ''} in {seconds:.0f} s"]
    if not paid:
        parts.append("from cache, $0")
    else:
        distinct = {id(c): c for c in paid}.values()  # identical images share one call, paid once
        costs = [c.meta.get("cost") for c in distinct]
        known = [c for c in costs if c is not None]
        cost = sum(known) if len(known) == len(costs) else sum(known) + PRICE_PER_CALL * (len(costs) - len(known))
        approx = "" if len(known) == len(costs) else "~"
        parts.append(f"{approx}${cost:.3f}")
        cached = len(clips) - len(paid)
        if cached:
            parts.append(f"{cached} from cache")
    credits = [c.meta.get("remaining_credits") for c in paid if c.meta.get("remaining_credits") is not None]
    if credits:
        parts.append(f"credits left {min(credits):.2f}")
    return "Segmind: " + ", ".join(parts)

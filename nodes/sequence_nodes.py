"""Longer shots: a sequence of camera moves per image, each clip continuing from the last frame of the one
before (nodes/jobs/sequence.py), on Segmind's API or as the free local preview. The two have the same inputs
and outputs, so a graph built with the preview switches to the paid node with no rewiring.
"""

import asyncio
import time

import numpy as np

from . import node_inputs
from .camera.motions import parse_motions
from .camera.preview import render_preview
from .comfy_bridge import Progress, interrupted, raise_interrupt
from .common.errors import CancelledError
from .common.params import validate_params
from .jobs.engine import get_engine
from .jobs.sequence import frames_per_image, run_sequences
from .media.image_codec import image_to_uint8, to_numpy_batch
from .media.video_codec import encode_mp4
from .node_outputs import node_result
from .node_run import NodeRun, run_paid
from .segmind.contract import PRICE_PER_CALL


def _params(widgets):
    # The single node's parameters minus motion and motion_speed, which come from each move.
    return {name: widgets[name] for name in ("fps", "motion_bucket_id", "cond_aug", "seed", "decoding_t",
                                             "maintain_aspect_ratio") if name in widgets}


class SegmindMotionCtrlSequence(node_inputs.MotionCtrlSequenceBase):
    DESCRIPTION = (
        "A longer shot: a sequence of camera moves (e.g. Pan Left, then Zoom In), each a MotionCtrl-SVD clip on "
        "Segmind's API that continues from the last frame of the one before, joined without the repeated frame "
        "and colour-matched at the joins. Costs one call (about $0.09, ~60 s) per move per image; every move is "
        "cached on its own, so a failure or cancel in move k costs only from move k when you run again.")
    FUNCTION = "generate"

    async def generate(self, image, motions, unique_id=None, color_match=True, **widgets):
        segments = parse_motions(motions)  # before anything is sent
        params = _params(widgets)
        run = NodeRun(unique_id)

        def start(env):
            return run_sequences(image, segments, params, color_match=color_match, **env)
        frames, metas = await run_paid(run, start)
        status = sequence_status(frames.shape[0] // frames_per_image(len(segments)), len(segments), metas,
                                 time.monotonic() - run.started) + run.budget_note
        result = await asyncio.get_running_loop().run_in_executor(
            get_engine().workers, _outputs, frames, len(segments), params["fps"], status, "segmind_sequence")
        run.done(status)
        return result


class MotionCtrlCameraPreviewSequence(node_inputs.MotionCtrlSequenceBase):
    DESCRIPTION = (
        "Free, instant, offline preview of a sequence of MotionCtrl camera moves: each move warps the last frame "
        "of the one before along MotionCtrl's camera path, joined like the Segmind sequence node (same inputs, "
        "same outputs, same frame count). It shows direction and rough size of the moves only.")
    FUNCTION = "render"

    async def render(self, image, motions, unique_id=None, color_match=True, **widgets):
        segments = parse_motions(motions)
        params = validate_params({**_params(widgets), "motion": segments[0].motion})
        loop = asyncio.get_running_loop()
        workers = get_engine().workers
        pixels = await loop.run_in_executor(workers, _pixels, image)
        progress = Progress(unique_id, total=len(pixels) * len(segments))
        started = time.monotonic()
        parts = []
        for rgb in pixels:
            current = rgb
            for k, segment in enumerate(segments):
                if interrupted():
                    raise_interrupt(CancelledError("Preview cancelled."))
                clip = await loop.run_in_executor(workers, render_preview, current, segment.motion, segment.speed,
                                                  params["maintain_aspect_ratio"])
                parts.append(clip if k == 0 else clip[1:])
                current = clip[-1]
                progress.update(len(parts))
        if len({p.shape[1:3] for p in parts}) > 1:
            raise ValueError("The images of this batch give previews of different sizes; use images of one shape "
                             "or turn maintain_aspect_ratio off.")
        frames = np.concatenate(parts, axis=0).astype(np.float32) / np.float32(255.0)
        status = (f"Local preview (not a MotionCtrl video): {len(segments)} moves, {frames.shape[0]} frames in "
                  f"{time.monotonic() - started:.1f}\u00a0s, free")
        result = await loop.run_in_executor(workers, _outputs, frames, len(segments), params["fps"], status,
                                            "motionctrl_preview_sequence")
        progress.text(status)
        return result


def _pixels(image):
    batch = to_numpy_batch(image)
    return [image_to_uint8(batch[i], "image", i) for i in range(batch.shape[0])]


def _outputs(frames, count, fps, status, prefix):
    """The joined clip of each image as one MP4 (the preview and, for one image, the VIDEO), then the outputs."""
    per_image = frames_per_image(count)
    videos = []
    for start in range(0, frames.shape[0], per_image):
        u8 = np.rint(frames[start:start + per_image] * 255.0).astype(np.uint8)
        videos.append(encode_mp4(u8, fps))
    return node_result(frames, fps, videos, status, prefix)


def sequence_status(images, count, metas, seconds):
    calls = images * count
    paid = len(metas)
    parts = [f"{images} sequence{'s' if images > 1 else ''} of {count} moves in {seconds:.0f} s"]
    if not paid:
        parts.append("from cache, $0")
    else:
        known = [m.get("cost") for m in metas if m.get("cost") is not None]
        approx = "~" if len(known) < paid else ""
        parts.append(f"{approx}${sum(known) + PRICE_PER_CALL * (paid - len(known)):.3f} for {paid} call"
                     f"{'s' if paid > 1 else ''}")
        if calls > paid:
            parts.append(f"{calls - paid} from cache")
    credits = [m.get("remaining_credits") for m in metas if m.get("remaining_credits") is not None]
    if credits:
        parts.append(f"credits left {min(credits):.2f}")
    return "Segmind: " + ", ".join(parts)

"""The free node: MotionCtrl's camera path rendered locally on your image, to check a motion before paying.

Same inputs and outputs as the Segmind node, so a graph built with the preview switches to the paid node
with no rewiring. Only image, motion, motion_speed, fps and maintain_aspect_ratio change what it renders.
Rendering runs in the job engine's worker threads, so other nodes keep running meanwhile.
"""

import asyncio
import time

import numpy as np

from . import node_inputs
from .camera.preview import render_preview
from .comfy_bridge import Progress, interrupted, raise_interrupt
from .common.errors import CancelledError
from .common.params import validate_params
from .jobs.engine import get_engine
from .media.image_codec import image_to_uint8, to_numpy_batch
from .media.video_codec import encode_mp4
from .node_outputs import node_result


class MotionCtrlCameraPreview(node_inputs.MotionCtrlNodeBase):
    DESCRIPTION = (
        "Free, instant, offline preview of a MotionCtrl camera motion: warps your image along the same camera "
        "path MotionCtrl-SVD is given (14 frames). It shows direction and rough size of the move only: the real "
        "model also animates the scene. Same inputs and outputs as MotionCtrl SVD (Segmind API), so you can "
        "swap the two without rewiring.")
    FUNCTION = "render"

    async def render(self, image, unique_id=None, **widgets):
        params = validate_params(node_inputs.params_from(widgets))
        loop = asyncio.get_running_loop()
        workers = get_engine().workers
        pixels = await loop.run_in_executor(workers, _pixels, image)
        progress = Progress(unique_id, total=len(pixels))
        started = time.monotonic()
        clips = []
        for index, rgb in enumerate(pixels):
            if interrupted():
                raise_interrupt(CancelledError("Preview cancelled."))
            clips.append(await loop.run_in_executor(workers, render_preview, rgb, params["motion"],
                                                    params["motion_speed"], params["maintain_aspect_ratio"]))
            progress.update(index + 1)
        if len({c.shape[1:3] for c in clips}) > 1:
            raise ValueError("The images of this batch give previews of different sizes; use images of one shape "
                             "or turn maintain_aspect_ratio off.")
        status = (f"Local preview (not a MotionCtrl video): {sum(c.shape[0] for c in clips)} frames in "
                  f"{time.monotonic() - started:.1f}\u00a0s, free")
        result = await loop.run_in_executor(workers, _outputs, clips, params["fps"], status)
        progress.text(status)
        return result


def _pixels(image):
    batch = to_numpy_batch(image)
    return [image_to_uint8(batch[i], "image", i) for i in range(batch.shape[0])]


def _outputs(clips, fps, status):
    videos = [encode_mp4(c, fps) for c in clips]
    frames = np.concatenate(clips, axis=0).astype(np.float32) / np.float32(255.0)
    return node_result(frames, fps, videos, status, "motionctrl_preview")

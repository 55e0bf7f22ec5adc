"""The free node: MotionCtrl's camera path rendered locally on your image, to check a motion before paying.

Same inputs and outputs as the Segmind node, so a graph built with the preview switches to the paid node
with no rewiring. Only image, motion, motion_speed, fps and maintain_aspect_ratio change what it renders.
"""

import time

import numpy as np

from . import node_inputs
from .camera.preview import render_preview
from .comfy_bridge import Progress, interrupted, raise_interrupt
from .common.errors import CancelledError
from .media.image_codec import image_to_uint8, to_numpy_batch
from .node_outputs import node_result
from .common.params import validate_params
from .media.video_codec import encode_mp4


class MotionCtrlCameraPreview(node_inputs.MotionCtrlNodeBase):
    DESCRIPTION = (
        "Free, instant, offline preview of a MotionCtrl camera motion: warps your image along the same camera "
        "path MotionCtrl-SVD is given (14 frames). It shows direction and rough size of the move only: the real "
        "model also animates the scene. Same inputs and outputs as MotionCtrl SVD (Segmind API), so you can "
        "swap the two without rewiring.")
    FUNCTION = "render"

    def render(self, image, unique_id=None, **widgets):
        params = validate_params(node_inputs.params_from(widgets))
        batch = to_numpy_batch(image)
        pixels = [image_to_uint8(batch[i], "image", i) for i in range(batch.shape[0])]
        progress = Progress(unique_id, total=len(pixels))
        started = time.monotonic()
        clips = []
        for index, rgb in enumerate(pixels):
            if interrupted():
                raise_interrupt(CancelledError("Preview cancelled."))
            clips.append(render_preview(rgb, params["motion"], params["motion_speed"],
                                        params["maintain_aspect_ratio"]))
            progress.update(index + 1)
        sizes = {c.shape[1:3] for c in clips}
        if len(sizes) > 1:
            raise ValueError("The images of this batch give previews of different sizes; use images of one shape "
                             "or turn maintain_aspect_ratio off.")
        videos = [encode_mp4(c, params["fps"]) for c in clips]
        frames = np.concatenate(clips, axis=0).astype(np.float32) / np.float32(255.0)
        status = (f"Local preview (not a MotionCtrl video): {len(clips) * clips[0].shape[0]} frames in "
                  f"{time.monotonic() - started:.1f} s, free")
        progress.text(status)
        return node_result(frames, params["fps"], videos, status, "motionctrl_preview")

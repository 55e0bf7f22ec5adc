"""Turn clips (MP4 bytes) into what both nodes return: frames, fps, VIDEO, the in-node preview and status."""

import hashlib

import numpy as np

from .comfy_bridge import temp_dir, video_from_frames, video_from_mp4
from .common.errors import SegmindError
from .common.log import logger
from .media.video_codec import allocate_frames, decode_video, video_info


class MixedClipSizesError(SegmindError, ValueError):
    pass


def frames_of(videos):
    """Decode every clip, in order, into one [N,H,W,3] float32 array (a batch is never copied twice)."""
    if len(videos) == 1:
        return decode_video(videos[0]).frames
    # video_info decodes each clip once without colour conversion: exact frame counts and sizes, so the
    # batch buffer is allocated once at its final size and every clip is decoded straight into its slice.
    infos = [video_info(v) for v in videos]
    if len({(info.height, info.width) for info in infos}) > 1:
        described = ", ".join(f"image {i + 1}: {info.width}x{info.height}" for i, info in enumerate(infos))
        raise MixedClipSizesError(
            f"The images of this batch produced clips of different sizes ({described}); one IMAGE output needs "
            "one size. Use images of the same shape, or turn maintain_aspect_ratio off (always 1024x576). The "
            "clips are cached, so running again costs nothing.")
    buffer = allocate_frames(sum(info.frames for info in infos), infos[0].height, infos[0].width)
    filled = 0
    for data, info in zip(videos, infos):
        filled += decode_video(data, out=buffer[filled:filled + info.frames]).frames.shape[0]
    return buffer[:filled]


def save_previews(videos, prefix):
    """Write each MP4 to ComfyUI's temp folder (wiped at start-up) and describe it for the UI."""
    folder = temp_dir()
    entries = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for data in videos:
            name = f"{prefix}_{hashlib.sha256(data).hexdigest()[:20]}.mp4"
            path = folder / name
            if not path.exists():
                path.write_bytes(data)
            entries.append({"filename": name, "subfolder": "", "type": "temp"})
    except OSError as exc:
        logger.warning("Could not write the preview clip (%s); the outputs are unaffected.", exc)
    return entries


def node_result(frames, fps, videos, status, prefix):
    """The {"ui", "result"} dict ComfyUI expects; the preview uses the core <video> widget (no JS needed)."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))
    video = video_from_mp4(videos[0]) if len(videos) == 1 else video_from_frames(tensor, fps)
    previews = save_previews(videos, prefix)
    ui = {"segmind_status": [status]}
    if previews:
        ui.update({"images": previews, "animated": [True]})
    return {"ui": ui, "result": (tensor, float(fps), video)}

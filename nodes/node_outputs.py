"""What the nodes return: frames, fps, VIDEO, the in-node preview and status (clips are decoded in jobs/frames.py)."""

import hashlib

import numpy as np

from .comfy_bridge import temp_dir, video_from_frames, video_from_mp4
from .common.log import logger


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

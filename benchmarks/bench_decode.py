"""MP4 bytes → [N,H,W,3] float32 frames tensor: the pack's decoder, the PyAV floor and the alternatives.

The PyAV floor is the least any decoder of these clips must do (demux, H.264 decode, yuv → rgb24 and one
uint8 → float32 pass into a preallocated buffer), written as plainly as possible: the pack's decode_video
is measured against it. The alternatives end with the float conversion most video-loading code uses,
`u8.astype(np.float32) / 255`. Each function returns a torch tensor, as a ComfyUI IMAGE output needs.

imageio is not a dependency of the pack any more; when it is installed (tests/requirements.txt lists it for
this benchmark) its rows show what the pack did before: `imageio_before` is the pack's old decode_video.
"""

import io
import os
import re
import shutil
import subprocess
import tempfile

import av
import numpy as np
import torch

from nodes.jobs.frames import FrameAssembler
from nodes.media.video_codec import decode_video, video_info

try:
    import imageio.v3 as iio
except ImportError:  # the pack does not need it; only the "before" rows do
    iio = None


def frames_of(videos):
    """The node's decode step for fresh clips (jobs/frames.py): one buffer for the batch, sized from the first
    clip's header, each clip decoded into its slice as it arrives (which is also the engine's check that it
    decodes); a clip that is not the plain case would go through video_info and a decode after it."""
    assembler = FrameAssembler(len(videos))
    for index, data in enumerate(videos):
        if assembler.fill_from_call([index], data) is None:
            raise AssertionError("the benchmark's clip should be the plain case")
    return assembler.frames()


def pack(data):
    """What the node does: frames_of() (decode_video into one buffer), then node_result's tensor wrap."""
    frames = frames_of([data])
    return torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))


BATCH_CLIPS = 4


def pack_batch(data):
    """The node's path for a batch of images: frames_of() over several clips, joined into one tensor."""
    frames = frames_of([data] * BATCH_CLIPS)
    return torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))


def pack_decode(data):
    return decode_video(data).frames


def pack_info(data):
    return video_info(data)


def pyav_floor(data):
    """Demux + decode + rgb24 + one float32 pass into a buffer sized from the header: nothing more."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        buffer = np.empty((stream.frames, stream.height, stream.width, 3), dtype=np.float32)
        for i, frame in enumerate(container.decode(stream)):
            np.multiply(frame.to_ndarray(format="rgb24"), np.float32(1.0 / 255.0), out=buffer[i], casting="unsafe")
    return buffer


def imageio_before(data):
    """The pack's decode_video before this change: imageio's PyAV plugin, frames into one float32 buffer."""
    with iio.imopen(io.BytesIO(data), "r", plugin="pyav") as video:
        count = video.properties().shape[0]
        buffer = None
        for i, frame in enumerate(video.iter(format="rgb24")):
            if buffer is None:
                buffer = np.empty((count,) + frame.shape, dtype=np.float32)
            np.multiply(frame, np.float32(1.0 / 255.0), out=buffer[i], casting="unsafe")
    return buffer


def floor_methods():
    """(name, function) rows of the floor table, the floor first; the imageio row only when installed."""
    rows = [
        ("PyAV floor: decode + rgb24 + float32 into one buffer (benchmarks/bench_decode.py)", pyav_floor),
        ("pack: decode_video", pack_decode),
        ("pack: video_info (decodes every frame, no RGB conversion)", pack_info),
    ]
    if iio is not None:
        rows.append(("before: the pack's decode_video on imageio's PyAV plugin", imageio_before))
    return rows


def _to_float(u8):
    return torch.from_numpy(u8.astype(np.float32) / np.float32(255.0))


def imageio_default(data):
    """imageio picks the plugin itself (with PyAV installed it picks PyAV), returns one stacked uint8 array."""
    return _to_float(iio.imread(data, index=None))


def pyav_list_stack(data):
    """The naive PyAV loop: a list of uint8 frames, np.stack, then a float copy."""
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return _to_float(np.stack(frames))


def ffmpeg_exe():
    """The ffmpeg binary to compare against, or None: imageio-ffmpeg's bundled one first, then PATH."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return shutil.which("ffmpeg")
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return shutil.which("ffmpeg")


def ffmpeg_pipe(data, exe):
    """As video packs often do it: MP4 to a temp file, ffmpeg decodes to rgb24 on a pipe, size from its log.

    A temp file rather than stdin because an MP4 whose index (moov) sits at the end, as PyAV and most
    encoders write it, cannot be read from a pipe.
    """
    handle, path = tempfile.mkstemp(suffix=".mp4")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        done = subprocess.run(ffmpeg_command(exe, path), capture_output=True, check=True)
    finally:
        os.unlink(path)
    width, height = _size_from_log(done.stderr.decode("utf-8", "replace"))
    return _to_float(np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3))


def ffmpeg_command(exe, path):
    return [exe, "-hide_banner", "-nostdin", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


def _size_from_log(log):
    match = re.search(r"Stream #\S+.*Video: .*?(\d{2,5})x(\d{2,5})", log)
    if match is None:
        raise RuntimeError("ffmpeg did not report the video size:\n" + log[-1000:])
    return int(match.group(1)), int(match.group(2))


def methods(exe):
    """(name, function) pairs, the pack first; the imageio and ffmpeg rows only when they are installed."""
    rows = [("pack: decode_video → preallocated float32 → torch.from_numpy", pack)]
    if iio is not None:
        rows.append(("imageio default plugin: iio.imread(index=None) + float copy", imageio_default))
    rows.append(("PyAV list of frames → np.stack + float copy (naive)", pyav_list_stack))
    if exe:
        rows.append(("ffmpeg subprocess → rawvideo rgb24 pipe + float copy", lambda d: ffmpeg_pipe(d, exe)))
    rows.append(("PyAV floor (decode + rgb24 + float32 into one buffer) → torch.from_numpy",
                 lambda d: torch.from_numpy(pyav_floor(d))))
    return rows


def memory_methods(exe):
    """methods() plus the pack's batch path, whose output is BATCH_CLIPS clips long (memory only)."""
    rows = methods(exe)
    rows.insert(1, (f"pack, batch of {BATCH_CLIPS} clips: frames_of (one buffer for the batch) → torch.from_numpy",
                    pack_batch))
    if iio is not None:
        rows.insert(2, ("before: the pack's decode_video on imageio's PyAV plugin → torch.from_numpy",
                        lambda d: torch.from_numpy(imageio_before(d))))
    return rows


def imageio_default_plugin(data):
    """Which plugin imageio's default choice ends up using for these bytes (for the report)."""
    if iio is None:
        return "imageio not installed"
    with iio.imopen(data, "r") as file:
        return type(file).__name__


# ---- pieces of the pack's decode, to split its time ---------------------------------------------------------

def pyav_decode_only(data):
    """Demux + H.264 decode + yuv → rgb24 with PyAV alone, frames dropped: the floor any decoder pays."""
    count = 0
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            frame.to_ndarray(format="rgb24")
            count += 1
    return count


def rgb_frames(data):
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def float_fill(frames):
    """The pack's uint8 → float32 step (nodes/media/video_codec.py) over already decoded frames."""
    buffer = np.empty((len(frames),) + frames[0].shape, dtype=np.float32)
    for i, frame in enumerate(frames):
        np.multiply(frame, np.float32(1.0 / 255.0), out=buffer[i], casting="unsafe")
    return buffer

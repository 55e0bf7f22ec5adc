"""Video bytes ⇄ frames, through imageio's PyAV plugin (PyAV ships with ComfyUI and carries H.264).

Decoding gives frames [N,H,W,3] float32 0..1 and the container's fps.

Frames are converted straight into one preallocated float32 buffer (no list of frames, no stacked copy), so
peak memory is the output plus one decoded frame. Limits on frames and pixels make an absurd video fail with
a clear message instead of exhausting memory.
"""

import io
from dataclasses import dataclass

import numpy as np

from ..common.errors import VideoDecodeError

MAX_FRAMES = 1000
MAX_FRAME_PIXELS = 4096 * 4096
MAX_OUTPUT_BYTES = 8 * 1024 ** 3


@dataclass
class DecodedVideo:
    frames: np.ndarray  # [N,H,W,3] float32 in 0..1
    fps: float


def probe_video(data):
    """(frames, height, width) from the container's header, without decoding; frames is 0 when unknown."""
    import av  # PyAV, which imageio's plugin uses too; only the header is read here

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            return int(stream.frames or 0), int(stream.height), int(stream.width)
    except Exception as exc:  # a broken header: let the decoder report it with its own message
        raise VideoDecodeError(f"The returned video could not be read ({type(exc).__name__}: {exc}).") from exc


def decode_video(data, *, out=None, max_frames=MAX_FRAMES, max_frame_pixels=MAX_FRAME_PIXELS,
                 max_output_bytes=MAX_OUTPUT_BYTES):
    """Decode into a new buffer, or into `out` (a float32 [M,H,W,3] slice of a larger one) when given."""
    import imageio.v3 as iio  # imported on first use: it is only needed once a video has arrived

    try:
        with iio.imopen(io.BytesIO(data), "r", plugin="pyav") as video:
            meta = video.metadata()
            declared = video.properties().shape
            frames = _decode_into_buffer(video.iter(format="rgb24"), declared, max_frames, max_frame_pixels,
                                         max_output_bytes, out)
    except VideoDecodeError:
        raise
    except Exception as exc:  # PyAV and imageio raise many types for a broken stream; all mean the same here
        raise VideoDecodeError(f"The returned video could not be decoded ({type(exc).__name__}: {exc}).") from exc
    fps = float(meta.get("fps") or 0.0)
    return DecodedVideo(frames=frames, fps=fps)


def _decode_into_buffer(frames_iter, declared_shape, max_frames, max_frame_pixels, max_output_bytes, out):
    expected = int(declared_shape[0]) if declared_shape and declared_shape[0] else 0
    buffer = out
    count = 0
    for frame in frames_iter:
        if buffer is None:
            _check_frame(frame, max_frame_pixels)
            capacity = min(max(expected, 1), max_frames)
            buffer = _allocate(capacity, frame.shape, max_output_bytes, max_frames)
        elif frame.shape != buffer.shape[1:]:
            raise VideoDecodeError(f"The returned video changes size mid-stream ({buffer.shape[1:3]} then "
                                   f"{frame.shape[:2]}).")
        if count == buffer.shape[0]:
            if out is not None:
                raise VideoDecodeError("The returned video has more frames than its header declares.")
            buffer = _grow(buffer, max_frames, max_output_bytes)
        np.multiply(frame, np.float32(1.0 / 255.0), out=buffer[count], casting="unsafe")
        count += 1
    if buffer is None or count == 0:
        raise VideoDecodeError("The returned video has no frames.")
    return buffer[:count]


def _check_frame(frame, max_frame_pixels):
    height, width = frame.shape[:2]
    if height * width > max_frame_pixels:
        raise VideoDecodeError(f"The returned video is {width}x{height}, above the {max_frame_pixels} pixel "
                               "limit per frame; refusing to decode it.")


def allocate_frames(count, height, width, max_output_bytes=MAX_OUTPUT_BYTES):
    """One float32 [count,H,W,3] buffer for several clips, under the same memory limit as one decode."""
    return _allocate(count, (height, width, 3), max_output_bytes, MAX_FRAMES)


def _allocate(capacity, frame_shape, max_output_bytes, max_frames):
    nbytes = capacity * int(np.prod(frame_shape)) * 4
    if nbytes > max_output_bytes:
        raise VideoDecodeError(f"The returned video would need {nbytes / 1024 ** 3:.1f} GiB as frames, above the "
                               f"{max_output_bytes / 1024 ** 3:.1f} GiB limit; refusing to decode it.")
    return np.empty((capacity,) + tuple(frame_shape), dtype=np.float32)


def _grow(buffer, max_frames, max_output_bytes):
    # Only when the container under-reported its frame count: rare, so one copy is acceptable here.
    if buffer.shape[0] >= max_frames:
        raise VideoDecodeError(f"The returned video has more than {max_frames} frames; refusing to decode it "
                               "(a MotionCtrl clip has 14).")
    bigger = _allocate(min(buffer.shape[0] * 2, max_frames), buffer.shape[1:], max_output_bytes, max_frames)
    bigger[:buffer.shape[0]] = buffer
    return bigger


def encode_mp4(frames, fps):
    """uint8 [N,H,W,3] → H.264 MP4 bytes (no ffmpeg binary needed)."""
    import imageio.v3 as iio

    buffer = io.BytesIO()
    iio.imwrite(buffer, frames, extension=".mp4", plugin="pyav", codec="h264", fps=int(fps))
    return buffer.getvalue()

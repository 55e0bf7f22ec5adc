"""Video bytes ⇄ frames with PyAV directly (PyAV ships with ComfyUI and carries H.264).

Why not imageio: its PyAV plugin runs two full `gc.collect()` per clip in close(). A full collection walks
every live Python object of the process, so in a ComfyUI server holding millions of them each decode
stopped the whole server for most of a second. Nothing here needs a collection: PyAV's containers, frames
and reformatters hold no reference cycles, so they are freed the moment the last reference goes.

- `video_info(data)` decodes every frame without RGB conversion and says exactly how many frames decode,
  at what size: what a batch buffer is allocated from, and the check that a video decodes before it is
  cached.
- `decode_video(data, out=...)` converts each frame straight into one float32 buffer, or into `out`: no
  list of frames, no stacked copy, so peak memory is the output plus one RGB frame and the decoder's own.
- `encode_mp4(frames, fps)` writes H.264 (yuv420p) MP4.

The limits below make a video no MotionCtrl call can return fail with a clear message before it is
decoded, instead of exhausting memory. PyAV is imported inside the functions: it is only needed once a
video has arrived.
"""

import io
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..common.errors import VideoDecodeError

# MotionCtrl returns 14 frames, at most 1024 px on the long side (1024x576, 576x1024, 1024x1024 for square
# inputs). The caps leave room for a future model or setting (4.5x the frames, twice the side) and still
# stop an 11 KB download that claims hours of 8K video.
MAX_FRAMES = 64
MAX_SIDE = 2048  # px, width and height each
# 14 x 1024 x 1024 x 3 float32 = 168 MiB is the largest real clip. 1 GiB admits 64 frames at 1024x1024 or
# 14 frames at 2048x2048, but not both at once (64 x 2048 x 2048 would be 3 GiB).
MAX_CLIP_BYTES = 1024 ** 3
# A batch is one clip per image the user sent, so its size is the user's choice; this only turns an absurd
# allocation into a message instead of the out-of-memory killer (8 GiB = 48 clips of 1024x1024).
MAX_BATCH_BYTES = 8 * 1024 ** 3

NOT_MOTIONCTRL = "This is not a normal MotionCtrl clip (14 frames of at most 1024x1024)"
_FIRST_CAPACITY = 16  # frames, when the container does not say how many: one MotionCtrl clip fits
_TO_FLOAT = np.float32(1.0 / 255.0)


@dataclass(frozen=True)
class VideoInfo:
    frames: int  # frames that decode, counted by decoding them (not the header's claim)
    height: int
    width: int
    fps: float


@dataclass
class DecodedVideo:
    frames: np.ndarray  # [N,H,W,3] float32 in 0..1
    fps: float


@dataclass(frozen=True)
class _Limits:
    frames: int
    side: int
    output_bytes: int

    def check_count(self, count, declared=False):
        if count > self.frames:
            has = f"says it has {count} frames" if declared else f"has more than {self.frames} frames"
            raise VideoDecodeError(f"The returned video {has}, above the limit of {self.frames}; refusing to decode "
                                   f"it. {NOT_MOTIONCTRL}.")

    def check_size(self, width, height):
        if width > self.side or height > self.side:
            raise VideoDecodeError(f"The returned video is {width}x{height}, above the limit of {self.side} px "
                                   f"per side; refusing to decode it. {NOT_MOTIONCTRL}.")

    def check_bytes(self, count, width, height):
        nbytes = _float_bytes(count, width, height)
        if nbytes > self.output_bytes:
            raise VideoDecodeError(f"The returned video ({count} frames of {width}x{height}) would need "
                                   f"{_mib(nbytes)} as float32 frames, above the limit of {_mib(self.output_bytes)} "
                                   f"per clip; refusing to decode it. {NOT_MOTIONCTRL}.")


def _float_bytes(count, width, height):
    return count * height * width * 3 * np.dtype(np.float32).itemsize


def _mib(nbytes):
    return f"{nbytes / 1024 ** 2:,.1f} MiB"


def video_info(data, *, max_frames=MAX_FRAMES, max_side=MAX_SIDE, max_output_bytes=MAX_CLIP_BYTES):
    """Frames, height, width and fps of a video, by decoding every frame (no RGB conversion).

    Exact: `frames` is how many frames decode_video will give. Raises VideoDecodeError when the video does
    not decode, has no frames, changes size mid-stream or is beyond the limits.
    """
    limits = _Limits(max_frames, max_side, max_output_bytes)
    count, size = 0, None
    with _decode_errors(), _opened(data, limits) as (container, stream):
        for frame in _checked_frames(container, stream, limits):
            count += 1
            size = (frame.width, frame.height)
        fps = _fps(stream)
    if size is None:
        raise VideoDecodeError("The returned video has no frames.")
    return VideoInfo(frames=count, height=size[1], width=size[0], fps=fps)


def decode_video(data, *, out=None, max_frames=MAX_FRAMES, max_side=MAX_SIDE, max_output_bytes=MAX_CLIP_BYTES):
    """Frames [N,H,W,3] float32 0..1 and fps.

    With `out` (a float32 [M,H,W,3] array, typically a slice of a batch buffer sized from video_info), the
    frames are written into it and `frames` is out[:N]; a video with more frames than M, or of another
    size, is an error (and `out` may then be partly written). `out` may also be a callable
    `out(declared_frames, height, width)` returning that array, called once the first frame is decoded (with
    the header's frame count, 0 when it says none), so a caller can size its buffer from the header without
    opening the video twice. Without it, one buffer is allocated from the container's frame count.
    """
    import av

    limits = _Limits(max_frames, max_side, max_output_bytes)
    sized_later = callable(out)
    if not sized_later:
        _check_out(out)
    buffer, count = (None if sized_later else out), 0
    with _decode_errors(), _opened(data, limits) as (container, stream):
        to_rgb = _rgb_converter(av)
        for frame in _checked_frames(container, stream, limits):
            if buffer is None and sized_later:
                buffer = out(int(stream.frames or 0), frame.height, frame.width)
                _check_out(buffer)
            if buffer is None:
                buffer = _allocate((_capacity(stream, limits), frame.height, frame.width, 3))
            elif count == 0 and buffer.shape[1:3] != (frame.height, frame.width):
                raise VideoDecodeError(f"The returned video is {frame.width}x{frame.height}, but the buffer it "
                                       f"is decoded into holds {buffer.shape[2]}x{buffer.shape[1]} frames.")
            if count == buffer.shape[0]:
                if out is not None:
                    raise VideoDecodeError(f"The returned video has more frames than the {buffer.shape[0]} its "
                                           "buffer was sized for.")
                buffer = _grow(buffer, limits)
            np.multiply(to_rgb(frame).to_ndarray(), _TO_FLOAT, out=buffer[count], casting="unsafe")
            count += 1
        fps = _fps(stream)
    if count == 0:
        raise VideoDecodeError("The returned video has no frames.")
    # A container that over-declared its frames leaves the buffer's tail unused and never written (so, on
    # Linux and macOS, never resident); copying the frames out to trim it would double the peak instead.
    return DecodedVideo(frames=buffer[:count], fps=fps)


def _rgb_converter(av):
    """frame → rgb24 VideoFrame, through one reformatter for the whole clip (frame.to_ndarray(format=...)
    makes one per frame) and single-threaded: PyAV 17+ would otherwise start a swscale worker pool, which
    could outlive the call (and a later fork). Older PyAV has no `threads` argument and no such pool."""
    reformatter = av.video.reformatter.VideoReformatter()
    if _reformat_takes_threads(av):
        return lambda frame: reformatter.reformat(frame, format="rgb24", threads=1)
    return lambda frame: reformatter.reformat(frame, format="rgb24")


@lru_cache(maxsize=1)
def _reformat_takes_threads(av):
    try:
        av.video.reformatter.VideoReformatter().reformat(av.VideoFrame(16, 16, "yuv420p"), format="rgb24", threads=1)
    except TypeError:
        return False
    return True


def allocate_frames(count, height, width, max_output_bytes=MAX_BATCH_BYTES):
    """One float32 [count,H,W,3] buffer for the clips of a batch, each then decoded into its slice."""
    nbytes = _float_bytes(count, width, height)
    if nbytes > max_output_bytes:
        raise VideoDecodeError(f"This batch ({count} frames of {width}x{height}) would need {_mib(nbytes)} as "
                               f"float32 frames, above the limit of {_mib(max_output_bytes)}; run fewer images at "
                               "once.")
    return _allocate((count, height, width, 3))


@contextmanager
def _decode_errors():
    """What PyAV raises for a broken stream, as VideoDecodeError. Memory errors stay what they are: running
    out of memory says nothing about the video, and must not get it refused (and never cached)."""
    import av

    try:
        yield
    except (VideoDecodeError, MemoryError):
        raise
    except (av.error.FFmpegError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's own words, without its errno
        raise VideoDecodeError(f"The returned video could not be decoded ({type(exc).__name__}: {reason}).") from exc


@contextmanager
def _opened(data, limits):
    """The container and its video stream, closed on exit; the header's claims checked before decoding."""
    import av

    # max_pixels makes FFmpeg itself refuse an oversized frame before allocating it: in the decode that
    # av.open runs to probe the stream, and (set on the codec below) in ours, even mid-stream.
    pixel_cap = {"max_pixels": str(limits.side * limits.side)}
    container = av.open(io.BytesIO(data), options=pixel_cap, metadata_errors="replace")
    try:
        if not container.streams.video:
            raise VideoDecodeError("The returned file holds no video stream.")
        stream = container.streams.video[0]
        if stream.width and stream.height:
            declared = int(stream.frames or 0)
            limits.check_size(stream.width, stream.height)
            limits.check_count(declared, declared=True)
            limits.check_bytes(declared, stream.width, stream.height)
        if stream.codec_context is None:  # a codec this FFmpeg build does not know
            raise VideoDecodeError(f"The returned video uses a codec PyAV cannot decode ({stream.codec_tag!r}).")
        stream.codec_context.options = pixel_cap
        yield container, stream
    finally:
        container.close()


def _checked_frames(container, stream, limits):
    """Every decoded frame, in order, with the limits and the one-size rule checked before it is used."""
    size, count = None, 0
    for frame in container.decode(stream):
        count += 1
        limits.check_count(count)
        if size is None:
            size = (frame.width, frame.height)
            limits.check_size(*size)
        elif (frame.width, frame.height) != size:
            raise VideoDecodeError(f"The returned video changes size mid-stream (frame 1 is {size[0]}x{size[1]}, "
                                   f"frame {count} is {frame.width}x{frame.height}).")
        limits.check_bytes(count, *size)
        yield frame


def _fps(stream):
    rate = stream.guessed_rate or stream.average_rate
    return float(rate) if rate else 0.0


def _capacity(stream, limits):
    declared = int(stream.frames or 0)
    return declared if declared > 0 else min(_FIRST_CAPACITY, limits.frames)


def _allocate(shape):
    return np.empty(shape, dtype=np.float32)


def _grow(buffer, limits):
    # Only when the container did not say how many frames it has: rare, so one copy is acceptable here.
    bigger = _allocate((min(buffer.shape[0] * 2, limits.frames),) + buffer.shape[1:])
    bigger[:buffer.shape[0]] = buffer
    return bigger


def _check_out(out):
    if out is None:
        return
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.ndim != 4 or out.shape[3] != 3:
        raise ValueError(f"out must be a float32 numpy array [frames, height, width, 3], not "
                         f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}.")
    if not out.flags.writeable:
        raise ValueError("out must be writeable.")


def encode_mp4(frames, fps):
    """uint8 [N,H,W,3] → H.264 (yuv420p) MP4 bytes, with PyAV's bundled encoder (no ffmpeg binary needed).

    yuv420p stores colour at half resolution, so H.264 needs an even width and height: an odd side is
    padded by repeating its last row or column (nothing of the picture is lost; the video is 1 px larger).
    """
    import av

    pixels = np.asarray(frames)
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[3] != 3 or pixels.shape[0] == 0:
        raise ValueError(f"encode_mp4 takes uint8 frames [N,H,W,3] with N >= 1, not {pixels.dtype} "
                         f"{pixels.shape}.")
    if not fps > 0:
        raise ValueError(f"encode_mp4 needs a positive fps, not {fps!r}.")
    height, width = pixels.shape[1:3]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("h264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        for rgb in pixels:
            if height % 2 or width % 2:
                rgb = np.pad(rgb, pad, mode="edge")
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")))
        container.mux(stream.encode(None))
    return buffer.getvalue()

"""Clips decoded into one frames buffer as they arrive, each straight into its own slice.

All clips of a batch come back at one size (same model, same settings), so the buffer for the whole batch is
allocated once, when the first clip arrives, and every later clip decodes into its place: no per-clip array,
no concatenation copy, peak memory about the output itself. A clip of another size is an error (one IMAGE
output has one size); a clip with another frame count (not MotionCtrl's 14) falls back to its own array.
"""

import threading

import numpy as np

from ..common.errors import SegmindError, VideoDecodeError
from ..media.video_codec import allocate_frames, decode_video, video_info


class MixedClipSizesError(SegmindError, ValueError):
    pass


class CachedClipDamagedError(SegmindError):
    """A cached video no longer decodes: the entry is removed, so the next run fetches it anew."""


class FrameAssembler:
    def __init__(self, count):
        self.count = count
        self._lock = threading.Lock()
        self._buffer = None
        self._per_clip = None  # frames per clip in the buffer
        self._size = None  # (height, width)
        self._sizes = {}  # index -> (height, width), for the error about mixed sizes
        self._apart = {}  # index -> frames decoded on their own (an unusual frame count)
        self._filled = set()

    def add(self, indices, clip, *, on_damaged=None):
        """Decode `clip` into the slots of `indices` (identical images share one clip). Runs in a worker."""
        try:
            info = _info(clip)
        except VideoDecodeError as exc:
            if clip.source == "cache" and on_damaged is not None:
                on_damaged()
                raise CachedClipDamagedError(
                    f"The cached video for image {indices[0] + 1} no longer decodes ({exc}), so it was removed from "
                    "the cache. Run again to generate it anew (a new, billed call).") from None
            raise
        with self._lock:
            for index in indices:
                self._sizes[index] = (info.height, info.width)
            if self._buffer is None:
                self._size = (info.height, info.width)
                self._per_clip = info.frames
                self._buffer = allocate_frames(self.count * info.frames, info.height, info.width)
            if (info.height, info.width) != self._size:
                return  # reported by frames(), once every clip is in (so all of them are cached)
            regular = info.frames == self._per_clip
        first, rest = indices[0], indices[1:]
        if regular:
            target = self._slot(first)
            decode_video(clip.video, out=target)
            for index in rest:
                np.copyto(self._slot(index), target)
        else:
            frames = decode_video(clip.video).frames
            with self._lock:
                for index in indices:
                    self._apart[index] = frames
        with self._lock:
            self._filled.update(indices)

    def _slot(self, index):
        return self._buffer[index * self._per_clip:(index + 1) * self._per_clip]

    def frames(self):
        """[N,H,W,3] float32 of every clip in input order, or MixedClipSizesError."""
        sizes = set(self._sizes.values())
        if len(sizes) > 1:
            described = ", ".join(f"image {i + 1}: {w}x{h}" for i, (h, w) in sorted(self._sizes.items()))
            raise MixedClipSizesError(
                f"The images of this batch produced clips of different sizes ({described}); one IMAGE output needs "
                "one size. Use images of the same shape, or turn maintain_aspect_ratio off (always 1024x576). The "
                "clips are cached, so running again costs nothing.")
        missing = set(range(self.count)) - self._filled
        if missing:
            raise ValueError(f"clips missing for images {sorted(i + 1 for i in missing)}")
        if not self._apart:
            return self._buffer
        parts = [self._apart.get(i, self._slot(i)) for i in range(self.count)]
        return np.concatenate(parts, axis=0)


def _info(clip):
    meta = clip.meta or {}
    if all(isinstance(meta.get(k), int) and meta[k] > 0 for k in ("frames", "height", "width")):
        return _Known(meta["frames"], meta["height"], meta["width"])  # checked when it was cached
    return video_info(clip.video)


class _Known:
    def __init__(self, frames, height, width):
        self.frames, self.height, self.width = frames, height, width

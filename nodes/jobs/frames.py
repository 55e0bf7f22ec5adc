"""Clips decoded into one frames buffer as they arrive, each straight into its own slice.

All clips of a batch come back at one size (same model, same settings), so the buffer for the whole batch is
allocated once, when the first clip arrives, and every later clip decodes into its place: no per-clip array,
no concatenation copy, peak memory about the output itself. A clip of another size is an error (one IMAGE
output has one size); a clip with another frame count (not MotionCtrl's 14) falls back to its own array.

A fresh clip is decoded once: `fill_from_call` runs in the call's own thread as the job engine's check that
the video decodes (engine.Work.decode), so the check and the decode are one pass over the video instead of
two. It only ever takes the plain case (the clip fits its slot exactly); anything else returns None and the
clip goes the careful way, `add`, after the engine's own check.

Once the buffer exists, a background thread writes one value per memory page into the slots no clip has
reached yet. The first write to each page of fresh memory is a page fault the kernel serves by zeroing it
(on this project's benchmark machine 1.1 s for a batch of 8 clips): done while the other calls still run,
instead of inside each later clip's decode, when the batch is waiting for it. A slot a clip is decoded into
is never written by that thread (`_claim`).
"""

import threading

import numpy as np

from ..common.errors import SegmindError, VideoDecodeError
from ..media.video_codec import VideoInfo, allocate_frames, decode_video, video_info


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
        self._closed = False  # the batch stopped waiting (a cancel): a late clip must not allocate its buffer
        self._changed = threading.Condition(self._lock)
        self._claimed = set()  # slots a clip is being (or was) written into
        self._warm = set()  # slots whose pages were faulted in ahead
        self._warming = None  # the slot the warm-up thread is writing now

    def close(self):
        with self._lock:
            self._closed = True

    def _allocate(self, frames, height, width):
        """The batch's buffer (under the lock), and the warm-up of its pages for the clips still to come."""
        self._buffer = allocate_frames(self.count * frames, height, width)
        self._size, self._per_clip = (height, width), frames
        if self.count > 1:
            threading.Thread(target=self._warm_up, name="segmind-frames-warm-up", daemon=True).start()

    def _claim(self, indices):
        """Under the lock: these slots are about to be written by a clip, so the warm-up keeps off them."""
        while self._warming in indices:
            self._changed.wait()
        self._claimed.update(indices)

    def _warm_up(self):
        while True:
            with self._lock:
                index = next((i for i in range(self.count) if i not in self._claimed and i not in self._warm), None)
                if index is None or self._closed:
                    return
                self._warming = index
            try:
                self._slot(index).reshape(-1)[::1024] = 0.0  # one float32 per 4 KiB page
            finally:
                with self._lock:
                    self._warm.add(index)
                    self._warming = None
                    self._changed.notify_all()

    def fill_from_call(self, indices, video):
        """Decode a clip that just arrived into the slots of `indices`, as the engine's check that it decodes.

        A VideoInfo when every frame decoded into its slot and exactly filled it; None when this clip is not
        the plain case (another size or frame count, a buffer too large to allocate, a header that does not
        say its size, a stopped batch) or does not decode: then the engine checks it with video_info and `add`
        decodes it later, with their own errors, so a paid video is never refused here. (Anything unexpected
        raised here, the engine logs and treats as None.)"""
        first, rest = indices[0], indices[1:]

        def slot(declared, height, width):  # at the first decoded frame: the buffer, sized from the header
            with self._lock:
                if self._closed:
                    raise _NotPlain
                if self._buffer is None:
                    if declared <= 0:
                        raise _NotPlain  # the header does not say: `add` sizes the buffer from video_info
                    self._allocate(declared, height, width)
                self._claim(indices)
                return self._slot(first)  # of another size: decode_video refuses it

        try:
            decoded = decode_video(video, out=slot)  # refuses more frames than the slot holds
        except (_NotPlain, VideoDecodeError):  # not for this slot, too large a batch, or broken: video_info decides
            return None
        target = self._slot(first)
        if decoded.frames.shape[0] != target.shape[0]:
            return None  # fewer frames than the slot: `add` keeps this clip apart
        for index in rest:
            np.copyto(self._slot(index), target)
        height, width = self._size
        with self._lock:
            for index in indices:
                self._sizes[index] = (height, width)
            self._filled.update(indices)
        return VideoInfo(frames=target.shape[0], height=height, width=width, fps=decoded.fps)

    def filled(self, indices):
        with self._lock:
            return all(index in self._filled for index in indices)

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
                self._allocate(info.frames, info.height, info.width)
            if (info.height, info.width) != self._size:
                return  # reported by frames(), once every clip is in (so all of them are cached)
            regular = info.frames == self._per_clip
            if regular:
                self._claim(indices)
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


class _NotPlain(Exception):
    """Raised into decode_video by fill_from_call's buffer callback: this clip goes the careful way."""


def _info(clip):
    meta = clip.meta or {}
    if all(isinstance(meta.get(k), int) and meta[k] > 0 for k in ("frames", "height", "width")):
        return _Known(meta["frames"], meta["height"], meta["width"])  # checked when it was cached
    return video_info(clip.video)


class _Known:
    def __init__(self, frames, height, width):
        self.frames, self.height, self.width = frames, height, width

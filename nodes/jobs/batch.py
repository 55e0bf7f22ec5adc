"""One Segmind call per image of a batch: cache first, resume recorded jobs, bounded concurrency, cancel.

Everything that could be rejected locally (parameters, NaN pixels, an empty batch) is checked for the whole
batch before the first request. Calls run in worker threads; the caller's thread keeps the progress bar and
the cancel check (ComfyUI's hooks are meant for it). If one image fails, the others still finish and are
cached, so running again only pays for the one that failed.
"""

import functools
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ..common.errors import CancelledError, JobExpiredError, JobFailedError, SegmindError
from ..media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from ..common.log import logger
from ..common.params import validate_params
from .cache import cache_key

EXPECTED_SECONDS = 60.0
COST_PER_CALL = 0.089


@dataclass
class Clip:
    video: bytes
    meta: dict
    source: str  # "segmind", "cache" or "resumed"


@dataclass
class _Slot:
    index: int
    pixels: object
    key: str
    state: str = "WAITING"
    started: float = None
    clip: Clip = None
    error: BaseException = None


@dataclass
class BatchStatus:
    slots: list = field(default_factory=list)

    def fraction(self):
        """0..1 for the progress bar: finished images count whole, running ones by elapsed vs ~60 s."""
        parts = []
        for slot in self.slots:
            if slot.clip is not None or slot.error is not None:
                parts.append(1.0)
            elif slot.started is not None:
                parts.append(min(0.95, (time.monotonic() - slot.started) / EXPECTED_SECONDS))
            else:
                parts.append(0.0)
        return sum(parts) / max(1, len(parts))

    def text(self):
        total = len(self.slots)
        done = sum(1 for s in self.slots if s.clip is not None)
        running = [s for s in self.slots if s.clip is None and s.error is None and s.started is not None]
        head = f"Segmind: {done}/{total} done" if total > 1 else "Segmind:"
        if not running:
            return f"{head} waiting for a free slot" if done < total else f"{head} finished"
        slot = min(running, key=lambda s: s.started)
        elapsed = time.monotonic() - slot.started
        return f"{head} {slot.state.lower().replace('_', ' ')} {elapsed:.0f} s (usually ~{EXPECTED_SECONDS:.0f} s)"


def run_batch(images, params, *, base_url, client_factory, cache, concurrency=2, should_cancel=None,
              on_tick=None, tick_s=0.25):
    """Return one Clip per image, in input order. `on_tick(status)` runs on the caller's thread."""
    wire_params = validate_params(params)
    batch = to_numpy_batch(images)
    pixels = [image_to_uint8(batch[i], "image", i) for i in range(batch.shape[0])]
    status = BatchStatus([_Slot(i, p, cache_key(base_url, p, wire_params)) for i, p in enumerate(pixels)])
    misses = [slot for slot in status.slots if not _from_cache(slot, cache)]
    if misses:
        client = client_factory()  # only now: a fully cached batch needs no key and no network
        _run_misses(misses, status, client, wire_params, cache, concurrency, should_cancel, on_tick, tick_s)
    if on_tick is not None:
        on_tick(status)
    return [slot.clip for slot in status.slots]


def _from_cache(slot, cache):
    hit = cache.get(slot.key) if cache is not None else None
    if hit is None:
        return False
    slot.clip = Clip(hit.video, hit.meta, "cache")
    slot.state = "CACHED"
    logger.info("Image %d served from the result cache (no call, no cost).", slot.index + 1)
    return True


def _run_misses(misses, status, client, wire_params, cache, concurrency, should_cancel, on_tick, tick_s):
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(misses))), thread_name_prefix="segmind")
    futures = {pool.submit(_call_one, slot, client, wire_params, cache, cancel): slot for slot in misses}
    try:
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=tick_s, return_when=FIRST_COMPLETED)
            if should_cancel is not None and should_cancel():
                cancel.set()
            if on_tick is not None:
                on_tick(status)  # ComfyUI's progress hook may raise its interrupt exception here
    except BaseException:
        cancel.set()
        raise
    finally:
        # Workers notice `cancel` within a tick; don't block the caller on an abandoned HTTP read.
        pool.shutdown(wait=False, cancel_futures=True)
    _raise_first_error(status, len(status.slots))


def _call_one(slot, client, wire_params, cache, cancel):
    if cancel.is_set():  # queued behind others and cancelled before its turn: send nothing
        slot.error = CancelledError("Cancelled before this image was sent; nothing was billed for it.")
        return
    slot.started = time.monotonic()
    slot.state = "SUBMITTING"

    def on_progress(state):
        slot.state = state

    try:
        result, source = _call_segmind(slot, client, wire_params, cache, cancel, on_progress)
        meta = _meta(result)
        if cache is not None:
            cache.put(slot.key, result.video, meta)
            cache.clear_pending(slot.key)
        slot.clip = Clip(result.video, meta, source)
        slot.state = "DONE"
    except BaseException as exc:
        slot.error = exc
        slot.state = "FAILED"


def _call_segmind(slot, client, wire_params, cache, cancel, on_progress):
    """A recorded job is resumed (already paid for); otherwise a new one is submitted and recorded."""
    job = cache.pending(slot.key) if cache is not None else None
    try:
        if job is not None:
            logger.info("Resuming Segmind job %s for image %d instead of paying again.", job.request_id,
                        slot.index + 1)
            return client.resume(job, on_state=on_progress, should_stop=cancel.is_set), "resumed"
        record = keep = None
        if cache is not None:
            record = functools.partial(cache.record_pending, slot.key)
            # A v1 video that arrived after a cancel is paid for: keep it for the next run.
            keep = lambda late: cache.put(slot.key, late.video, _meta(late))  # noqa: E731
        result = client.generate(image_to_base64(slot.pixels), wire_params, on_state=on_progress,
                                 should_stop=cancel.is_set, on_submitted=record)
        return result, "segmind"
    except (JobFailedError, JobExpiredError):
        if cache is not None:
            cache.clear_pending(slot.key)  # that job is over (and a failed one is not billed): next run starts anew
        raise


def _meta(result):
    return {**result.meta(), "created": time.time()}


def _raise_first_error(status, total):
    failed = [s for s in status.slots if s.error is not None]
    if not failed:
        return
    cancelled = [s for s in failed if isinstance(s.error, CancelledError)]
    if cancelled:
        raise cancelled[0].error
    slot = failed[0]
    error = slot.error
    if total > 1 and isinstance(error, SegmindError):
        done = sum(1 for s in status.slots if s.clip is not None)
        note = (f" The other {done} image(s) finished and are cached: running again only pays for the rest."
                if done else "")
        error.args = (f"Image {slot.index + 1} of {total}: {error}{note}",)
    raise error

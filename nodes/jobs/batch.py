"""A batch of images through the job engine: cached clips first, one call per distinct image, each clip
decoded into the batch's frames as soon as it arrives (by the call itself, as its check that the video
decodes, when the clip fits its slot; see frames.FrameAssembler.fill_from_call).

Everything that could be rejected locally (parameters, NaN pixels, an empty batch) is checked for the whole
batch before the first request, and so is the spend guard. Identical images are sent once. If one image
fails, the others still finish and are cached, so running again only pays for the one that failed; after a
systemic failure (a rejected key, no credits, an unreadable answer) the images not yet sent are held back.

This is a coroutine for ComfyUI's event loop; every blocking step (hashing, encoding, HTTP, decoding) runs in
the engine's threads. Cancel (`should_cancel()`, or the task being cancelled) stops the waiting at once.
"""

import asyncio
import time
from dataclasses import dataclass, field

from ..common.errors import CancelledError, SegmindError, with_message
from ..common.log import logger
from ..common.params import validate_params
from ..media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from ..segmind.contract import EXPECTED_JOB_S
from .cache import cache_key
from .engine import HeldBackError, Work
from .frames import FrameAssembler


@dataclass
class Item:
    """One distinct piece of work of a batch, and the input positions it serves."""
    key: str
    pixels: object
    indices: list
    ticket: object = None
    error: BaseException = None
    decoded: bool = False

    @property
    def label(self):
        return f"image {self.indices[0] + 1}"


@dataclass
class BatchOutcome:
    clips: list  # one Clip per input image, in input order
    frames: object  # float32 [N,H,W,3], every clip in input order
    items: list = field(default_factory=list)

    @property
    def paid(self):
        return [i.ticket.result() for i in self.items if i.ticket.result().source == "segmind"]


class Progress:
    """What the node shows while a batch runs: a 0..1 fraction and one line of text."""

    def __init__(self, items, total):
        self.items = items
        self.total = total

    def fraction(self):
        parts = []
        for item in self.items:
            ticket = item.ticket
            if item.decoded or item.error is not None:
                parts.append(1.0)
            elif ticket is not None and ticket.started is not None:
                parts.append(min(0.95, (time.monotonic() - ticket.started) / EXPECTED_JOB_S))
            else:
                parts.append(0.0)
        return sum(parts) / max(1, len(parts))

    def text(self):
        done = sum(len(i.indices) for i in self.items if i.decoded)
        running = [i for i in self.items if not i.decoded and i.error is None and i.ticket is not None
                   and i.ticket.started is not None and not i.ticket.done()]
        head = f"Segmind: {done}/{self.total} done" if self.total > 1 else "Segmind:"
        if not running:
            waiting = any(not i.decoded and i.error is None for i in self.items)
            return f"{head} waiting for a free slot" if waiting else f"{head} finished"
        item = min(running, key=lambda i: i.ticket.started)
        elapsed = time.monotonic() - item.ticket.started
        state = item.ticket.state.lower().replace("_", " ")
        return f"{head} {state} {elapsed:.0f} s (usually ~{EXPECTED_JOB_S:.0f} s)"

    def any_sent(self):
        return any(i.ticket is not None and i.ticket.sent and not i.ticket.done() for i in self.items)


async def run_batch(images, params, *, engine, base_url, cache, client_factory, should_cancel=None, on_tick=None,
                    guard=None, on_kept=None, owner=(None, None), tick_s=0.25):
    """One Clip per image plus their frames, in input order.

    `guard(paid_calls)` runs before anything is sent (the spend limits); `on_kept()` runs if a paid video
    arrives after a cancel; `on_tick(progress)` runs on the event loop every tick.
    """
    loop = asyncio.get_running_loop()
    wire = validate_params(params)
    items, total = await _prepare(loop, engine, images, base_url, wire)
    progress = Progress(items, total)
    await loop.run_in_executor(engine.workers, _look_up_cache, engine, items, cache)
    misses = [i for i in items if i.ticket is None]
    assembler = FrameAssembler(total)
    if misses:
        client = client_factory()  # only now: a fully cached batch needs no key and no network
        to_pay = [i for i in misses if not engine.in_flight(i.key) and (cache is None or cache.pending(i.key) is None)]
        if guard is not None and to_pay:
            guard(len(to_pay))  # may refuse: then nothing at all is sent
        for item in misses:
            pixels = item.pixels
            work = Work(item.key, lambda pixels=pixels: image_to_base64(pixels), wire, item.label, *owner,
                        reserved=item in to_pay,
                        decode=lambda video, indices=item.indices: assembler.fill_from_call(indices, video))
            item.ticket = engine.request(work, cache=cache, client=client)
    try:
        await _collect(loop, engine, items, assembler, cache, progress, should_cancel, on_tick, tick_s)
    except BaseException:
        assembler.close()
        for item in items:
            if item.ticket is not None and not item.ticket.done():
                item.ticket.leave(on_kept)
        raise
    _raise_first_error(items, total)
    frames = assembler.frames()
    clips = [None] * total
    for item in items:
        for index in item.indices:
            clips[index] = item.ticket.result()
    if on_tick is not None:
        on_tick(progress)
    return BatchOutcome(clips, frames, items)


async def _prepare(loop, engine, images, base_url, wire):
    """Check every image, turn each into uint8 pixels and its cache key; identical images become one item.

    The images are done side by side in the engine's media workers (the conversion and the hashing release the
    GIL): nothing is sent before all of them are, since the spend guard counts the distinct ones first. A bad
    image is reported as before: the first one in input order."""
    batch = await loop.run_in_executor(engine.workers, to_numpy_batch, images)
    keyed = await asyncio.gather(*(loop.run_in_executor(engine.workers, _pixels_and_key, batch, index, base_url, wire)
                                   for index in range(batch.shape[0])), return_exceptions=True)
    by_key = {}
    for index, outcome in enumerate(keyed):
        if isinstance(outcome, BaseException):
            raise outcome
        pixels, key = outcome
        if key in by_key:
            by_key[key].indices.append(index)
        else:
            by_key[key] = Item(key, pixels, [index])
    return list(by_key.values()), batch.shape[0]


def _pixels_and_key(batch, index, base_url, wire):
    pixels = image_to_uint8(batch[index], "image", index)
    return pixels, cache_key(base_url, pixels, wire)


def _look_up_cache(engine, items, cache):
    for item in items:
        if engine.in_flight(item.key):
            continue  # joined below: one call for both
        hit = engine.cached(item.key, cache)
        if hit is not None:
            item.ticket = hit
            logger.info("%s served from the result cache (no call, no cost).", item.label.capitalize())


async def _collect(loop, engine, items, assembler, cache, progress, should_cancel, on_tick, tick_s):
    """Wait for every call, decoding each clip in a worker the moment it arrives."""
    arrived = asyncio.Queue()

    def wake(item):
        try:
            loop.call_soon_threadsafe(arrived.put_nowait, item)
        except RuntimeError:
            pass  # the prompt's event loop is gone (the run was cancelled); nothing waits any more

    for item in items:
        item.ticket.add_done_callback(lambda _, item=item: wake(item))
    decoding = {}
    open_calls = len(items)
    if on_tick is not None:
        on_tick(progress)  # at once: a cancel before the first tick must still know a paid call is on its way
    while open_calls or decoding:
        if should_cancel is not None and should_cancel():
            raise CancelledError("Cancelled.")
        waiters = [asyncio.ensure_future(arrived.get())] if open_calls else []
        done, _ = await asyncio.wait(waiters + list(decoding), timeout=tick_s, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            if task not in done:
                task.cancel()
        for task in done:
            if task in decoding:
                item = decoding.pop(task)
                try:
                    task.result()
                    item.decoded = True
                except BaseException as exc:
                    item.error = exc
            else:
                item = task.result()
                open_calls -= 1
                try:
                    clip = item.ticket.result()
                except BaseException as exc:
                    item.error = exc
                    continue
                if clip.source != "cache" and assembler.filled(item.indices):
                    item.decoded = True  # decoded by the call as it arrived (the engine's check)
                    continue
                decode = loop.run_in_executor(engine.workers, _decode, assembler, item, clip, cache)
                decoding[asyncio.ensure_future(decode)] = item
        if on_tick is not None:
            on_tick(progress)


async def ticket_result(loop, ticket):
    """The ticket's Clip, awaited on the event loop (woken by the call's thread, never polled)."""
    if not ticket.done():
        arrived = loop.create_future()

        def wake(_):
            try:
                loop.call_soon_threadsafe(lambda: arrived.done() or arrived.set_result(None))
            except RuntimeError:
                pass  # the prompt's loop is gone: nobody waits any more
        ticket.add_done_callback(wake)
        await arrived
    return ticket.result()


def _decode(assembler, item, clip, cache):
    def discard():
        if cache is not None:
            cache.discard(item.key)
    assembler.add(item.indices, clip, on_damaged=discard)


def _raise_first_error(items, total):
    failed = [i for i in items if i.error is not None]
    if not failed:
        return
    cancelled = [i for i in failed if isinstance(i.error, CancelledError)]
    if cancelled and len(cancelled) == len(failed):
        raise cancelled[0].error
    real = [i for i in failed if not isinstance(i.error, (CancelledError, HeldBackError))]
    item = real[0] if real else failed[0]
    error = item.error.cause if isinstance(item.error, HeldBackError) else item.error
    if total > 1 and isinstance(error, SegmindError):
        done = sum(len(i.indices) for i in items if i.decoded)
        held = sum(len(i.indices) for i in failed if isinstance(i.error, HeldBackError))
        notes = []
        if held:
            notes.append(f"{held} image(s) not yet sent were held back; nothing was billed for them.")
        if done:
            notes.append(f"The other {done} image(s) finished and are cached: running again only pays for the rest.")
        which = f"Image {item.indices[0] + 1} of {total}"
        raise with_message(error, " ".join([f"{which}: {error}"] + notes))
    raise error

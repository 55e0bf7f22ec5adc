"""Longer shots: a sequence of camera moves per image, each clip continuing from the last frame of the one
before.

Segment 1 starts from the input image; segment k+1 from the last frame of segment k as it came back, with
seed `seed + k` (wrapping at the seed range), so every segment is an ordinary call of the single node's
path: the same cache key rule (running the single node on the same image and settings is a cache hit), the
same resume, cancel and money rules. A failure or cancel in segment k keeps segments 1..k-1 cached, so
running again pays only from segment k.

Joins: the first frame of every later segment repeats the previous last frame and is dropped, so N segments
give 14 + 13·(N−1) frames per image. With colour matching, each later segment's colours are matched to the
sequence so far (Lab statistics of its first frame against the previous segment's corrected last frame; SVD's
VAE round trip shifts colours a little with every clip); without it, frames are exactly Segmind's.
A batch of B images gives B sequences, concurrently up to the engine's limit, in input order.
"""

import asyncio
import time

import numpy as np

from ..camera.poses import FRAME_COUNT
from ..common.errors import CancelledError, SegmindError, with_message
from ..common.params import SEED_MAX, validate_params
from ..media.color_match import match_colors
from ..media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from ..media.video_codec import allocate_frames, decode_video
from ..segmind.contract import EXPECTED_JOB_S
from .batch import ticket_result
from .cache import cache_key
from .engine import Work
from .frames import CachedClipDamagedError


def segment_params(params, segments):
    """The wire parameters of every segment: its motion and speed, and seed + k."""
    base = validate_params({**params, "motion": segments[0].motion, "motion_speed": segments[0].speed})
    return [validate_params({**base, "motion": s.motion, "motion_speed": s.speed,
                             "seed": (base["seed"] + k) % (SEED_MAX + 1)}) for k, s in enumerate(segments)]


def frames_per_image(count):
    return FRAME_COUNT + (FRAME_COUNT - 1) * (count - 1)


class Chain:
    """One image's sequence: its segments' keys, clips and state."""

    def __init__(self, index, pixels, wires, segments):
        self.index = index
        self.pixels = pixels
        self.wires = wires
        self.segments = segments
        self.done_segments = 0
        self.ticket = None  # the segment being fetched
        self.tickets = []
        self.error = None

    def label(self, k):
        return f"image {self.index + 1}, move {k + 1} ({self.segments[k].motion})"


class SequenceProgress:
    def __init__(self, chains, count):
        self.chains = chains
        self.count = count

    def fraction(self):
        total = len(self.chains) * self.count
        done = 0.0
        for chain in self.chains:
            done += chain.done_segments
            ticket = chain.ticket
            if ticket is not None and ticket.started is not None and not ticket.done():
                done += min(0.95, (time.monotonic() - ticket.started) / EXPECTED_JOB_S)
        return done / max(1, total)

    def text(self):
        running = [c for c in self.chains if c.ticket is not None and c.ticket.started is not None
                   and not c.ticket.done()]
        finished = sum(c.done_segments for c in self.chains)
        head = f"Segmind: {finished}/{len(self.chains) * self.count} clips"
        if not running:
            return f"{head}, waiting for a free slot" if finished < len(self.chains) * self.count else f"{head} done"
        chain = min(running, key=lambda c: c.ticket.started)
        elapsed = time.monotonic() - chain.ticket.started
        where = f"move {chain.done_segments + 1}/{self.count}"
        if len(self.chains) > 1:
            where = f"image {chain.index + 1} {where}"
        return f"{head}, {where} {chain.ticket.state.lower()} {elapsed:.0f} s (usually ~{EXPECTED_JOB_S:.0f} s)"

    def any_sent(self):
        return any(c.ticket is not None and c.ticket.sent and not c.ticket.done() for c in self.chains)


class _Frames:
    """The sequences' frames: one buffer for all images, allocated when the first clip arrives."""

    def __init__(self, images, per_image):
        self.images = images
        self.per_image = per_image
        self.buffer = None

    def place(self, chain_index, k, frames):
        """Write segment k's frames (already joined: the first frame dropped for k > 0) into place."""
        if frames.shape[0] != (FRAME_COUNT if k == 0 else FRAME_COUNT - 1):
            raise SegmindError(f"Segmind returned {frames.shape[0] + (k > 0)} frames for a move, not {FRAME_COUNT}; "
                               "a sequence needs MotionCtrl's 14 per move. Please report this.")
        if self.buffer is None:
            self.buffer = allocate_frames(self.images * self.per_image, frames.shape[1], frames.shape[2])
        if frames.shape[1:3] != self.buffer.shape[1:3]:
            raise SegmindError("The moves of this sequence came back at different sizes; use images of one shape, "
                               "or turn maintain_aspect_ratio off (always 1024x576). The clips are cached.")
        start = chain_index * self.per_image + (0 if k == 0 else FRAME_COUNT + (FRAME_COUNT - 1) * (k - 1))
        self.buffer[start:start + frames.shape[0]] = frames
        return self.buffer[start + frames.shape[0] - 1]  # this segment's last frame, as placed (corrected)


async def run_sequences(images, segments, params, *, color_match, engine, base_url, cache, client_factory,
                        should_cancel=None, on_tick=None, guard=None, on_kept=None, owner=(None, None), tick_s=0.25):
    """The frames of every image's sequence, [B·(14+13·(N−1)),H,W,3] float32, and the paid clips' meta."""
    loop = asyncio.get_running_loop()
    wires = segment_params(params, segments)
    pixels = await loop.run_in_executor(engine.workers, _pixels, images)
    chains = [Chain(i, p, wires, segments) for i, p in enumerate(pixels)]
    to_pay, calls = await loop.run_in_executor(engine.workers, _paid_calls, chains, engine, base_url, cache)
    client = client_factory() if calls else None  # a fully cached sequence needs no key and no network
    if guard is not None and to_pay:
        guard(to_pay)
    frames = _Frames(len(chains), frames_per_image(len(segments)))
    progress = SequenceProgress(chains, len(segments))
    metas = []
    tasks = [asyncio.ensure_future(_run_chain(loop, chain, engine, base_url, cache, client, frames, color_match,
                                              metas, owner)) for chain in chains]
    try:
        if on_tick is not None:
            on_tick(progress)  # at once: a cancel before the first tick must still know a paid call is on its way
        pending = set(tasks)
        while pending:
            if should_cancel is not None and should_cancel():
                raise CancelledError("Cancelled.")
            _, pending = await asyncio.wait(pending, timeout=tick_s)
            if on_tick is not None:
                on_tick(progress)
    except BaseException:
        for task in tasks:
            task.cancel()
        for chain in chains:
            if chain.ticket is not None and not chain.ticket.done():
                chain.ticket.leave(on_kept)
        raise
    failed = [c for c in chains if c.error is not None]
    if failed:
        chain = failed[0]
        error = chain.error
        if isinstance(error, SegmindError) and not isinstance(error, CancelledError):
            kept = sum(c.done_segments for c in chains)
            note = f" The {kept} finished clip(s) are cached: running again pays only for the rest." if kept else ""
            raise with_message(error, f"Image {chain.index + 1}, move {chain.done_segments + 1} "
                                       f"({segments[chain.done_segments].motion}): {error}{note}")
        raise error
    return frames.buffer, metas


async def _run_chain(loop, chain, engine, base_url, cache, client, frames, color_match, metas, owner):
    try:
        previous_last = None
        pixels = chain.pixels
        for k, wire in enumerate(chain.wires):
            key = cache_key(base_url, pixels, wire)
            ticket = await loop.run_in_executor(engine.workers, engine.cached, key, cache)
            if ticket is None:
                new = not engine.in_flight(key) and (cache is None or cache.pending(key) is None)
                work = Work(key, lambda pixels=pixels: image_to_base64(pixels), wire, chain.label(k), *owner,
                            reserved=new)
                ticket = engine.request(work, cache=cache, client=client)
            chain.ticket = ticket
            clip = await ticket_result(loop, ticket)
            if clip.source != "cache":
                metas.append(clip.meta)
            decoded = await loop.run_in_executor(engine.workers, _decode, clip, key, cache, chain.label(k))
            pixels = np.rint(decoded[-1] * 255.0).astype(np.uint8)  # the next move starts from this, as it came
            if k > 0:
                if color_match:
                    decoded = await loop.run_in_executor(engine.workers, match_colors, decoded, decoded[0],
                                                         previous_last)
                decoded = decoded[1:]
            previous_last = frames.place(chain.index, k, decoded)
            chain.done_segments = k + 1
    except asyncio.CancelledError:
        if chain.ticket is not None and not chain.ticket.done():
            chain.ticket.leave()
        raise
    except BaseException as exc:
        chain.error = exc


def _pixels(images):
    batch = to_numpy_batch(images)
    return [image_to_uint8(batch[i], "image", i) for i in range(batch.shape[0])]


def _decode(clip, key, cache, label):
    try:
        return decode_video(clip.video).frames
    except SegmindError as exc:
        if clip.source == "cache" and cache is not None:
            cache.discard(key)
            raise CachedClipDamagedError(f"The cached video for {label} no longer decodes ({exc}), so it was removed "
                                         "from the cache. Run again to generate it anew (a new, billed call).") from None
        raise


def _paid_calls(chains, engine, base_url, cache):
    """(new paid calls, calls of any kind) the run would make: each chain walked through the cache.

    A cached segment gives the next segment's image (its last frame), so its key; from the first miss on,
    every remaining segment is a call, and a new paid one unless it is in flight or recorded as running.
    """
    total = calls = 0
    for chain in chains:
        pixels = chain.pixels
        for k, wire in enumerate(chain.wires):
            key = cache_key(base_url, pixels, wire)
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                known = engine.in_flight(key) or (cache is not None and cache.pending(key) is not None)
                total += (len(chain.wires) - k) - (1 if known else 0)
                calls += len(chain.wires) - k
                break
            try:
                last = decode_video(hit.video).frames[-1]
            except SegmindError:
                total += len(chain.wires) - k  # a damaged entry is fetched anew
                calls += len(chain.wires) - k
                break
            pixels = np.rint(last * 255.0).astype(np.uint8)
    return total, calls

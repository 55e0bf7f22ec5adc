"""The job engine: one per ComfyUI process, shared by every node, batch and queued run.

- **One call per piece of work.** Work is keyed by the cache key (API address + image pixels + every
  parameter). A request identical to one already in flight (the same image twice in a batch, another node,
  a re-queue, a run after a cancel whose POST is still on its way) waits for that call instead of paying again.
- **Calls never die with their waiters.** Each call runs in the engine's own threads. A node that is cancelled
  stops waiting at once; the call goes on until what was paid for is safe: a POST is read to its end, an
  accepted v2 job is recorded and collected (its polls are free), a finished video is checked and cached, so a
  cancelled paid call still ends in the cache and its node says so. Only a call not yet sent stops when nobody
  waits; a process that exits stops collecting between polls, and the record lets the next start resume it.
- **A process-wide limit** on calls at once (SEGMIND_CONCURRENCY), whatever the number of nodes running.
- **A stop on systemic failures.** After an answer that would be the same for the next image (a rejected key,
  no credits, an answer the pack cannot read), calls queued before it are not sent; nothing is billed for them.

The engine never runs on ComfyUI's event loop and never uses its default executor: ComfyUI's executor waits
for that executor's threads at the end of every prompt, which would hold a cancelled run for a whole call.
"""

import os
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ..common import errors as E
from ..common.log import logger
from ..media.video_codec import video_info
from .cpu_turns import CpuTurns
from .spend_guard import SpendGuard

MAX_CONCURRENCY = 8

# Set when the interpreter starts to exit, before it joins the engine's threads: a call collecting a job nobody
# waits for then stops at its next poll instead of holding ComfyUI's exit for up to a minute.
_exiting = threading.Event()
try:
    threading._register_atexit(_exiting.set)  # runs before thread joins (plain atexit runs after them)
except (AttributeError, RuntimeError):  # not CPython, or already exiting
    pass

SLOT_TICK_S = 0.1
# How long after a call gets its slot the engine's work that can wait (checking a video that arrived, encoding
# an image whose call must wait for a slot) lets it go first, unless Segmind accepts it sooner (cpu_turns).
# Building and sending the body is the CPU part of a submit and takes milliseconds to a fraction of a second; a
# v1 call, whose one POST lasts until its video is back, and a v2 accept slow in coming are network waiting.
SUBMIT_PRIORITY_S = 0.5
# Failures that would repeat for every other image of the run: the rest is held back, unsent.
_SYSTEMIC = (E.AuthenticationError, E.PermissionDeniedError, E.InsufficientCreditsError, E.MissingApiKeyError,
             E.EndpointNotFoundError, E.RateLimitedError, E.UnexpectedResponseError)
_NOT_SYSTEMIC = (E.TruncatedResponseError, E.JobNotFoundError, E.DeadlineExceededError, E.VideoDecodeError)


def is_systemic(error):
    return isinstance(error, _SYSTEMIC) and not isinstance(error, _NOT_SYSTEMIC)


@dataclass
class Clip:
    video: bytes
    meta: dict
    source: str  # "segmind" (paid now), "resumed" (paid earlier), "cache"


@dataclass
class Work:
    """One call's input: the cache key and what the client needs to make the call."""
    key: str
    image_b64: object  # a str, or a callable making it (encoding is done in the call's own thread, see _encode_ahead)
    params: dict
    label: str = "image"
    node_id: str = None  # who asked first (for the usage ledger)
    prompt_id: str = None
    reserved: bool = False  # counted by the spend guard as a new paid call
    # The first waiter's decode of the arriving video, as the check that it decodes (one pass instead of two):
    # decode(video) -> VideoInfo when every frame decoded, None to leave the check to video_info.
    decode: object = None


@dataclass
class Flight:
    work: Work
    cache: object
    client: object
    future: Future = field(default_factory=Future)
    waiters: int = 0
    state: str = "WAITING"
    started: float = None  # monotonic, when the call got its slot
    sent: bool = False  # a POST has started: from here on the call may be billed
    accepted: bool = False  # Segmind holds a job for it (recorded): collected even if nobody waits any more
    created: float = field(default_factory=time.monotonic)
    on_kept: list = field(default_factory=list)
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


class HeldBackError(E.SegmindError):
    """Not sent, because an earlier call of the same run failed in a way this one would have too."""

    def __init__(self, cause):
        self.cause = cause
        super().__init__(f"Not sent, because an earlier call failed: {cause}")


class Ticket:
    """One waiter's hold on a flight (or on a cache hit)."""

    def __init__(self, engine, flight=None, clip=None):
        self._engine = engine
        self.flight = flight
        self.clip = clip
        self._left = flight is None

    def done(self):
        return self.flight is None or self.flight.future.done()

    def result(self):
        """The Clip; raises the call's error. Only once done()."""
        return self.clip if self.flight is None else self.flight.future.result()

    def add_done_callback(self, callback):
        if self.flight is None:
            callback(self)
        else:
            self.flight.future.add_done_callback(lambda _: callback(self))

    @property
    def state(self):
        return "CACHED" if self.flight is None else self.flight.state

    @property
    def started(self):
        return None if self.flight is None else self.flight.started

    @property
    def sent(self):
        return self.flight is not None and self.flight.sent

    def leave(self, on_kept=None):
        """Stop waiting (a cancel). `on_kept()` runs if the call later delivers a paid video nobody waits for."""
        if self._left:
            return
        self._left = True
        self._engine._leave(self.flight, on_kept)


class _Slots:
    """A counting limit that can change between runs (SEGMIND_CONCURRENCY is read per run)."""

    def __init__(self, limit):
        self.limit = limit
        self.in_use = 0
        self.waiting = 0
        self._cond = threading.Condition()

    def set_limit(self, limit):
        with self._cond:
            self.limit = limit
            self._cond.notify_all()

    def acquire(self, give_up):
        """True with a slot, False when `give_up()` says so first."""
        with self._cond:
            self.waiting += 1
            try:
                while self.in_use >= self.limit:
                    if give_up():
                        return False
                    self._cond.wait(SLOT_TICK_S)
                if give_up():
                    return False
                self.in_use += 1
                return True
            finally:
                self.waiting -= 1

    def handing_over(self):
        """A slot is free and a call waits for it (it has been told, and is waking up)."""
        with self._cond:
            return self.waiting > 0 and self.in_use < self.limit

    def release(self):
        with self._cond:
            self.in_use -= 1
            self._cond.notify()


class Engine:
    def __init__(self, concurrency=4):
        self._lock = threading.Lock()
        self._flights = {}
        self._slots = _Slots(concurrency)
        self._calls = ThreadPoolExecutor(max_workers=MAX_CONCURRENCY, thread_name_prefix="segmind-call")
        # Encoding, decoding and hashing: CPU work kept off the event loop (and off ComfyUI's default executor).
        self.workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="segmind-media")
        # The CPU work done in the call threads (encoding an upload, checking a video): at most one per core at
        # once. More would not finish sooner, and would slow down every other call's HTTP (and, through the GIL,
        # each other). Work that can wait lets the encodes and submits of the calls starting now go first.
        self._cpu = CpuTurns(_cores(), self._submit_under_way)
        self._lined_up = 0  # calls encoding, waiting for a slot or holding one: who is next in line for a slot
        self._holding = {}  # call_id -> flight, for the flights holding a slot
        self._tripped_at = None  # the last systemic failure: calls queued before it are held back
        self._tripped_by = None
        self._tripped_runs = {}  # prompt id -> its systemic failure: that run's unsent calls are held back
        self.listeners = []  # callables (event, flight, **details): the ledger and the spend guard listen here
        self.guard = SpendGuard()  # one per process, like the engine: a run's limit spans all of its nodes
        self.listen(self.guard.listener)

    def listen(self, listener):
        """Add a listener of the calls' events (submitted, completed, failed, expired, unknown), once."""
        with self._lock:
            if listener not in self.listeners:
                self.listeners.append(listener)

    def set_concurrency(self, limit):
        self._slots.set_limit(max(1, min(MAX_CONCURRENCY, int(limit))))

    @property
    def concurrency(self):
        return self._slots.limit

    # ---- requests ----------------------------------------------------------------------------------------

    def in_flight(self, key):
        with self._lock:
            flight = self._flights.get(key)
            return flight is not None and not flight.future.done()

    def cached(self, key, cache):
        """A Ticket for a cache hit, or None. Reads the disk: call it from a worker thread."""
        hit = cache.get(key) if cache is not None else None
        return None if hit is None else Ticket(self, clip=Clip(hit.video, hit.meta, "cache"))

    def request(self, work, *, cache, client):
        """A Ticket for the work: joins an identical call in flight, or starts one."""
        with self._lock:
            flight = self._flights.get(work.key)
            if flight is None or flight.future.done():
                flight = Flight(work, cache, client)
                self._flights[work.key] = flight
                start = True
            else:
                start = False
                logger.info("%s: the same work is already in flight; waiting for that call instead of paying "
                            "again.", work.label.capitalize())
            flight.waiters += 1
        if start:
            self._calls.submit(self._run, flight)
        return Ticket(self, flight)

    def _leave(self, flight, on_kept):
        with self._lock:
            flight.waiters -= 1
            if on_kept is not None and flight.sent and not flight.future.done():
                flight.on_kept.append(on_kept)

    def _nobody_waits(self, flight):
        with self._lock:
            return flight.waiters <= 0

    def _may_stop(self, flight):
        """Whether the client may stop between two requests: only while stopping loses nothing paid for."""
        if _exiting.is_set():
            return True  # the record stays; the next start resumes the job
        return not flight.accepted and self._nobody_waits(flight)

    # ---- one call ----------------------------------------------------------------------------------------

    def _run(self, flight):
        try:
            clip = self._call(flight)
        except BaseException as exc:  # every outcome reaches the waiters; nothing is raised into the pool
            self._finish(flight, error=exc)
        else:
            self._finish(flight, clip=clip)

    def _call(self, flight):
        def give_up():
            return self._nobody_waits(flight) or self._held_back(flight)

        with self._lock:
            next_in_line = self._lined_up < self._slots.limit  # a slot is free for it once its image is encoded
            self._lined_up += 1
        try:
            self._encode_ahead(flight, give_up, urgent=next_in_line)
            if not self._slots.acquire(give_up):
                if self._held_back(flight):
                    raise HeldBackError(self._tripped_runs.get(flight.work.prompt_id) or self._tripped_by)
                raise E.CancelledError("Cancelled before it was sent; nothing was billed for it.")
        except BaseException:
            self._out_of_line()
            raise
        with self._lock:
            flight.started = time.monotonic()
            self._holding[flight.call_id] = flight
        try:
            while True:
                try:
                    result, source = self._call_once(flight)
                    break
                except E.CancelledError:
                    # Stopped before the POST because nobody waited (or between polls because ComfyUI exits); if
                    # someone came back meanwhile, go on (an accepted job was recorded, so this resumes it).
                    with self._lock:
                        if flight.waiters <= 0 or _exiting.is_set():
                            raise
        except BaseException as exc:
            if is_systemic(exc):
                # Before the slot is released: the next queued call must see it and stay unsent.
                with self._lock:
                    self._tripped_at, self._tripped_by = time.monotonic(), exc
                    if flight.work.prompt_id:
                        self._tripped_runs[flight.work.prompt_id] = exc
                        while len(self._tripped_runs) > 100:
                            self._tripped_runs.pop(next(iter(self._tripped_runs)))
            raise
        finally:
            # The slot limits calls to Segmind; the check and caching below are local work, so the next queued
            # call need not wait for them.
            with self._lock:
                self._holding.pop(flight.call_id, None)
                self._lined_up -= 1
            self._slots.release()
            self._cpu.poke()  # the work that can wait may go on, unless a queued call takes the slot
        return self._keep(flight, result, source)

    def _out_of_line(self):
        with self._lock:
            self._lined_up -= 1

    def _submit_under_way(self):
        """For how many seconds more the work that can wait should let a submit go first (0: none under way):
        a call that got its slot less than SUBMIT_PRIORITY_S ago and is not accepted yet, or one about to get the
        slot just freed (the check of the video that freed it must not start in between)."""
        now = time.monotonic()
        with self._lock:
            left = [seconds for seconds in (flight.started + SUBMIT_PRIORITY_S - now
                                            for flight in self._holding.values() if not flight.accepted)
                    if seconds > 0]
        if self._slots.handing_over():
            left.append(SLOT_TICK_S)
        return min(left, default=0.0)

    def _encode_ahead(self, flight, give_up, urgent):
        """Encode the upload before waiting for a slot, so a call queued behind others has its PNG ready when it
        gets one (its encode overlaps the running calls' jobs instead of following them). At most one encode (or
        check) per core at once, in arrival order; a call that must wait for a slot anyway encodes only when
        the calls starting now have encoded and been submitted (cpu_turns)."""
        work, cache = flight.work, flight.cache
        if not callable(work.image_b64) or give_up():
            return
        if cache is not None and cache.pending(work.key) is not None:
            return  # resumed, not uploaded
        with self._cpu.turn(urgent):
            if not give_up():
                work.image_b64 = work.image_b64()

    def _call_once(self, flight):
        """The exchange with Segmind: (GenerationResult, source)."""
        work, cache, client = flight.work, flight.cache, flight.client
        job = cache.pending(work.key) if cache is not None else None

        def on_state(state):
            flight.state = state
            if state in ("SUBMITTING", "PROCESSING"):  # the POST is about to go out (v2 submit, v1 call)
                flight.sent = True

        def on_submitted(submitted):
            flight.accepted = True
            self._cpu.poke()  # the work that can wait may go on
            if cache is not None:
                cache.record_pending(work.key, submitted)
            self._tell("submitted", flight, job=submitted)

        try:
            if job is not None:
                logger.info("Resuming Segmind job %s for %s instead of paying again.", job.request_id, work.label)
                flight.sent = flight.accepted = True
                result = client.resume(job, on_state=on_state, should_stop=lambda: self._may_stop(flight))
                source = "resumed"
            else:
                image_b64 = work.image_b64() if callable(work.image_b64) else work.image_b64
                flight.sent = False
                result = client.generate(image_b64, work.params, on_state=on_state,
                                         should_stop=lambda: self._may_stop(flight), on_submitted=on_submitted)
                source = "segmind"
        except (E.JobFailedError, E.JobExpiredError) as exc:
            if cache is not None:
                cache.clear_pending(work.key)  # that job is over (a failed one is not billed): next run starts anew
            self._tell("failed" if isinstance(exc, E.JobFailedError) else "expired", flight, error=exc)
            raise
        except E.CancelledError:
            raise
        except E.SegmindError as exc:
            if exc.may_have_been_billed:
                self._tell("unknown", flight, error=exc)
            raise
        return result, source

    def _keep(self, flight, result, source):
        """Check that the video decodes, then cache it: a video that does not decode is never cached."""
        work, cache = flight.work, flight.cache
        flight.state = "CHECKING"
        try:
            with self._cpu.turn(urgent=False):  # a video that does not decode is never cached
                info = _decoded_by_waiter(work, result.video) or video_info(result.video)
        except E.VideoDecodeError as exc:
            self._tell("completed", flight, result=result, source=source)
            raise E.VideoDecodeError(
                f"Segmind returned a video that does not decode ({exc}); it was not cached. It was probably billed: "
                "please report this with the request id.", request_id=result.request_id,
                may_have_been_billed=True) from None
        meta = {**result.meta(), "created": time.time(), "frames": info.frames, "height": info.height,
                "width": info.width}
        if cache is not None:
            cache.put(work.key, result.video, meta)
            cache.clear_pending(work.key)
        self._tell("completed", flight, result=result, source=source)
        return Clip(result.video, meta, source)

    def _finish(self, flight, clip=None, error=None):
        with self._lock:
            if self._flights.get(flight.work.key) is flight:
                del self._flights[flight.work.key]
            orphaned = flight.waiters <= 0
            kept = list(flight.on_kept)
        if clip is not None and orphaned and clip.source != "cache":
            logger.info("Segmind's video for %s arrived after the cancel and was kept; running again uses it.",
                        flight.work.label)
            for callback in kept:
                _quietly(callback)
        self._tell("ended", flight)
        if error is not None:
            flight.future.set_exception(error)
        else:
            flight.future.set_result(clip)

    def _held_back(self, flight):
        """Not yet sent, and queued before a systemic failure, or in the same queued run as one."""
        with self._lock:
            if flight.sent:
                return False
            if flight.work.prompt_id and flight.work.prompt_id in self._tripped_runs:
                return True
            return self._tripped_at is not None and flight.created < self._tripped_at

    def _tell(self, event, flight, **details):
        for listener in list(self.listeners):
            _quietly(listener, event, flight, **details)


def _decoded_by_waiter(work, video):
    """The VideoInfo of the first waiter's successful decode, or None (no decoder, or it declined)."""
    if work.decode is None:
        return None
    try:
        return work.decode(video)
    except Exception as exc:  # the waiter's decoder must never cost a paid video: video_info decides
        logger.warning("Decoding %s as it arrived failed (%s); checking it apart.", work.label, exc)
        return None


def _cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _quietly(callback, *args, **kwargs):
    try:
        callback(*args, **kwargs)
    except Exception as exc:  # a listener (ledger, UI event) must never break a paid call
        logger.warning("A listener of the job engine failed: %s", exc)


_engine = None
_engine_lock = threading.Lock()


def get_engine():
    """The process-wide engine (created on first use)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine

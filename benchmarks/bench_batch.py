"""Batch efficiency and cache hits: the pack's run_batch coroutine on a fresh job engine, a real SegmindClient
and the fake server over HTTP, end to end (until the frames array is out).

The fake server (tests/fake_segmind.py) is a real HTTP server on 127.0.0.1 that holds each job for a fixed
latency, gzips its answers, redirects output URLs to a storage origin and answers each job's first status poll
with a 404, like a CDN-fronted API. It renders each answer video the first time it sees an input: that is the
harness's cost, not Segmind's or the pack's, so every input's video is rendered before the clock starts.

The client polls on the pack's own schedule scaled to the stand-in job's length
(PollSchedule().scaled(latency / 60)): the same shape around a 2 s job as around a 60 s one, so what these
runs measure is the pack's work around the calls, not the polling grid (section 4 is about that).

Each call is timed by phase without changing what runs: a client subclass stamps the states the client reports,
an engine listener stamps the end of the video check, and the batch's decode step is wrapped with a timer.
"""

import asyncio
import math
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.common.params import validate_params
from nodes.jobs import batch as batch_module
from nodes.jobs.batch import run_batch
from nodes.jobs.cache import ResultCache
from nodes.jobs.engine import Engine
from nodes.media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from nodes.segmind.client import SegmindClient
from nodes.segmind.polling import PollSchedule

EXPECTED_JOB_S = 60.0


class BenchFailure(AssertionError):
    """The pack did something wrong (not merely slowly): the benchmark exits non-zero."""


def job_schedule(latency):
    """The pack's PollSchedule with its shape scaled to a stand-in job of `latency` seconds."""
    return PollSchedule().scaled(latency / EXPECTED_JOB_S)


# ---- per-call timeline -------------------------------------------------------------------------------------

_now = time.monotonic
_current = threading.local()


@dataclass
class CallTimes:
    """Monotonic stamps of one call (None where a stamp does not apply, e.g. v1 has no job record)."""
    slot: float = None  # the call got its engine slot
    encode_start: float = None  # the PNG encode (image_to_base64) of this call's image, in its thread
    encode_end: float = None
    generate: float = None  # client.generate() called: the PNG is encoded, the slot held
    submitted: float = None  # v2: Segmind's accept read
    created: float = None  # v2: the fake created the job (its latency starts)
    ready: float = None  # v2: the job is done on the server
    result_asked: float = None  # v2: the first result fetch reached the server (the poll saw COMPLETED)
    downloading: float = None  # v2: result JSON read, the video download begins
    returned: float = None  # generate() returned the video
    checked: float = None  # the engine's check is done (the "completed" event): the decode into the batch buffer
    decode_start: float = None
    decode_end: float = None
    request_id: str = None
    label: str = None


class TimedClient(SegmindClient):
    """SegmindClient that stamps one CallTimes per generate() call (thread-local, for the engine listener)."""

    def __init__(self, *args, timeline, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeline = timeline

    def generate(self, image_b64, params, *, on_state=None, should_stop=None, on_submitted=None):
        encoded = getattr(_current, "encoded", (None, None))
        _current.encoded = (None, None)
        times = CallTimes(generate=_now(), encode_start=encoded[0], encode_end=encoded[1])
        _current.times = times
        self.timeline.append(times)

        def state(name):
            if name == "DOWNLOADING" and times.downloading is None:
                times.downloading = _now()
            if on_state is not None:
                on_state(name)

        def submitted(job):
            times.submitted = _now()
            times.request_id = job.request_id
            if on_submitted is not None:
                on_submitted(job)
        try:
            return super().generate(image_b64, params, on_state=state, should_stop=should_stop,
                                    on_submitted=submitted)
        finally:
            times.returned = _now()


def _listen(event, flight, **details):
    times = getattr(_current, "times", None)
    if event == "completed" and times is not None:  # told in the call's own thread, after the check
        times.checked = _now()
        times.slot = flight.started
        times.label = flight.work.label


class _Timers:
    """Wraps nodes.jobs.batch._decode and its image_to_base64 (both looked up at call time) with timers, for the
    duration of a run: the decode per item, the encode per call (thread-local, read by TimedClient)."""

    def __init__(self):
        self.spans = {}  # label -> (start, end)

    def __enter__(self):
        decode = self.decode = batch_module._decode
        encode = self.encode = batch_module.image_to_base64

        def timed_decode(assembler, item, clip, cache):
            start = _now()
            try:
                return decode(assembler, item, clip, cache)
            finally:
                self.spans[item.label] = (start, _now())

        def timed_encode(pixels):
            start = _now()
            try:
                return encode(pixels)
            finally:
                _current.encoded = (start, _now())
        batch_module._decode, batch_module.image_to_base64 = timed_decode, timed_encode
        return self

    def __exit__(self, *exc):
        batch_module._decode, batch_module.image_to_base64 = self.decode, self.encode


# ---- runs --------------------------------------------------------------------------------------------------

@dataclass
class BatchRow:
    mode: str
    concurrency: int
    images: int
    latency: float
    wall: float  # run_batch start → frames array out + torch.from_numpy
    calls_wall: float  # run_batch start → the last call's video checked
    posts: int
    status_polls: int
    calls: list = field(default_factory=list)  # CallTimes
    started: float = 0.0
    first_slot: float = 0.0

    @property
    def ideal(self):
        return math.ceil(self.images / self.concurrency) * self.latency

    @property
    def efficiency(self):
        return self.ideal / self.wall

    @property
    def calls_efficiency(self):
        return self.ideal / self.calls_wall


def fake_server(latency, video_scale):
    return FakeSegmind(latency=latency, video_scale=video_scale).start()


def prewarm(fake, images, params):
    """Render the fake's answer for each input now; returns the videos each slot must come back with."""
    wire = validate_params(params)
    array = to_numpy_batch(images)
    return [fake.expected_video(image_to_base64(image_to_uint8(array[i])), wire) for i in range(array.shape[0])]


def check_clips(clips, expected, what):
    if len(clips) != len(expected):
        raise BenchFailure(f"{what}: {len(clips)} clips for {len(expected)} images")
    for i, (clip, video) in enumerate(zip(clips, expected)):
        if clip is None or clip.video != video:
            raise BenchFailure(f"{what}: image {i + 1} came back with another image's video (or none)")


def _client_factory(fake, mode, timeline, created=None):
    schedule = job_schedule(fake.latency)

    def make():
        if created is not None:
            created.append(1)
        return TimedClient(TEST_KEY, base_url=fake.base_url, mode=mode, schedule=schedule, timeline=timeline)
    return make


def _shut(engine):
    engine._calls.shutdown(wait=False)
    engine.workers.shutdown(wait=False)


def batch_row(fake, images, params, expected, mode, concurrency):
    """One timed run_batch of all images on a fresh engine, no cache; checks one billed POST per image and that
    every image got its own video and frames."""
    engine = Engine(concurrency=concurrency)
    engine.listeners.append(_listen)
    timeline = []
    factory = _client_factory(fake, mode, timeline)
    posts_before, polls_before = len(fake.accepted_posts()), len(fake.recorded("status"))

    async def run():
        started = _now()
        outcome = await run_batch(images, params, engine=engine, base_url=fake.base_url, cache=None,
                                  client_factory=factory)
        tensor = torch.from_numpy(outcome.frames)
        return started, _now(), outcome, tensor

    try:
        with _Timers() as decode:
            started, ended, outcome, tensor = asyncio.run(run())
    finally:
        _shut(engine)
    what = f"{mode} concurrency {concurrency}"
    posts = len(fake.accepted_posts()) - posts_before
    if posts != len(expected):
        raise BenchFailure(f"{what}: {posts} billed POSTs for {len(expected)} images (lost or duplicated)")
    check_clips(outcome.clips, expected, what)
    if tensor.shape[0] != 14 * len(expected):
        raise BenchFailure(f"{what}: {tensor.shape[0]} frames for {len(expected)} images")
    _fill_server_times(fake, timeline)
    for times in timeline:
        times.decode_start, times.decode_end = decode.spans.get(times.label, (None, None))
    calls_end = max(t.checked for t in timeline)
    return BatchRow(mode, concurrency, len(expected), fake.latency, ended - started, calls_end - started, posts,
                    len(fake.recorded("status")) - polls_before, timeline, started,
                    min(t.slot for t in timeline))


def _fill_server_times(fake, timeline):
    """The fake's side of each v2 call: when the job was created and done, when the result was first asked."""
    offset = time.monotonic() - time.time()  # the fake stamps requests with time.time()
    results = {}
    for record in fake.recorded("result"):
        request_id = record.path.rsplit("/", 1)[1]
        results.setdefault(request_id, record.time + offset)
    for times in timeline:
        job = fake.jobs.get(times.request_id) if times.request_id else None
        if job is not None:
            times.created, times.ready = job.created, job.ready_at
            times.result_asked = results.get(times.request_id)


def batch_rows(images, params, latency, plan, video_scale):
    """plan: [(mode, concurrency)], in order, against one fake server with a fixed latency."""
    with fake_server(latency, video_scale) as fake:
        expected = prewarm(fake, images, params)
        return [batch_row(fake, images, params, expected, mode, concurrency) for mode, concurrency in plan]


# ---- where the time beyond the ideal goes ----------------------------------------------------------------

PHASES = ("before the first call (checks, hashing, cache look-up)", "PNG encode",
          "waiting for a slot or an encode turn", "upload: POST body sent and read by the server",
          "v2: status-poll lag after the job is done", "v2: result JSON + video download (redirects, gzip)",
          "v1: the answer beyond the latency (upload + video download)",
          "video arrived → the next call's slot",
          "last call: the check (its decode into the batch buffer)",
          "after the last call: a decode left to a media worker, torch.from_numpy")


def critical_path(row):
    """The chain of calls that ends with the last one, each getting its slot when the one before released it
    (at or after its video arrived)."""
    calls = sorted(row.calls, key=lambda t: t.checked)
    path = [calls[-1]]
    while True:
        before = [t for t in calls if t not in path and t.returned <= path[0].slot + 1e-3]
        if not before or path[0].slot <= row.first_slot + 1e-3:
            break
        path.insert(0, max(before, key=lambda t: t.returned))
    return path


def breakdown(row):
    """({phase: seconds}, calls on the path) along the critical path: consecutive stretches of the wall time,
    the job latencies left out, so the phases add up to the wall time minus len(path) x latency."""
    path = critical_path(row)
    spent = dict.fromkeys(PHASES, 0.0)
    begin = row.started
    for index, t in enumerate(path):
        marks = []  # (phase, moment the phase ends), in order
        if index == 0:  # until the first encode or slot of any call: the batch's own checks and hashing
            marks.append((PHASES[0], min(x for c in row.calls for x in (c.encode_start, c.slot) if x is not None)))
        if t.encode_start is not None:
            marks += [(PHASES[2], t.encode_start), (PHASES[1], t.encode_end)]
        marks.append((PHASES[2], t.generate))
        if t.created is not None:  # v2; the latency (created → ready) is the job itself
            marks += [(PHASES[3], t.created), (None, t.ready), (PHASES[4], t.result_asked or t.downloading),
                      (PHASES[5], t.returned)]
        else:
            marks += [(None, t.generate + row.latency), (PHASES[6], t.returned)]
        last = index == len(path) - 1
        marks.append((PHASES[8], t.checked) if last else (PHASES[7], path[index + 1].slot))
        for phase, moment in marks:
            moment = max(moment, begin)
            if phase is not None:
                spent[phase] += moment - begin
            begin = moment
    spent[PHASES[9]] = row.started + row.wall - begin
    return spent, len(path)


def mean_phases(row):
    """Median per call of the main phases (ms), over every call of the run."""
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) * 1000.0 if values else None
    c = row.calls
    out = {"encode": med([t.encode_end - t.encode_start for t in c if t.encode_start is not None]),
           "check": med([t.checked - t.returned for t in c]),
           "decode": med([t.decode_end - t.decode_start for t in c if t.decode_end])}
    if row.mode == "v2":
        out["upload"] = med([t.created - t.generate for t in c if t.created])
        out["lag"] = med([(t.result_asked or t.downloading) - t.ready for t in c if t.ready])
        out["download"] = med([t.returned - (t.result_asked or t.downloading) for t in c if t.ready])
    else:
        out["http"] = med([t.returned - t.generate - row.latency for t in c])
    return out


# ---- cache hit ---------------------------------------------------------------------------------------------

@dataclass
class CacheRow:
    miss_wall: float
    miss_requests: int
    hit_wall: float
    hit_requests: int
    client_created: int


def cache_row(image, params, latency, repeats, video_scale):
    """A miss then `repeats` hits of the same image through a ResultCache in a temp dir, on one engine."""
    with fake_server(latency, video_scale) as fake, tempfile.TemporaryDirectory() as folder:
        engine = Engine()
        try:
            return _cache_runs(fake, engine, ResultCache(folder), image, params, repeats)
        finally:
            _shut(engine)


def _cache_runs(fake, engine, cache, image, params, repeats):
    expected = prewarm(fake, image, params)
    created = []
    factory = _client_factory(fake, "v2", [], created)

    def run():
        started = _now()
        outcome = asyncio.run(run_batch(image, params, engine=engine, base_url=fake.base_url, cache=cache,
                                        client_factory=factory))
        torch.from_numpy(outcome.frames)
        return outcome, _now() - started

    outcome, miss_wall = run()
    check_clips(outcome.clips, expected, "cache miss")
    miss_requests, miss_created = len(fake.recorded()), len(created)
    hits = []
    for _ in range(repeats):
        outcome, wall = run()
        hits.append(wall)
        check_clips(outcome.clips, expected, "cache hit")
        if outcome.clips[0].source != "cache":
            raise BenchFailure(f"cache hit: the clip came from {outcome.clips[0].source!r}, not the cache")
    hit_requests = len(fake.recorded()) - miss_requests
    client_created = len(created) - miss_created
    if hit_requests or client_created:
        raise BenchFailure(f"cache hit made {hit_requests} request(s) and created {client_created} client(s)")
    return CacheRow(miss_wall, miss_requests, statistics.median(hits), hit_requests, client_created)


# ---- the fake server's own work per call, measured apart ---------------------------------------------------

def server_side_ms(image, params, video, repeats=5):
    """Median ms of what the fake server does per call in this same process: reading and checking the upload,
    and gzipping the clip for the download (a real API does this on its own machines)."""
    import json

    from fake_segmind import compress, validate_body

    client = SegmindClient(TEST_KEY, base_url="http://127.0.0.1:1")
    body = json.dumps(client.request_body(image_to_base64(image_to_uint8(to_numpy_batch(image)[0])),
                                          params)).encode()

    return {"parse": median_ms(lambda: validate_body(json.loads(body)), repeats),
            "gzip": median_ms(lambda: compress(video, "gzip"), repeats), "body_bytes": len(body),
            "video_bytes": len(video), "gzip_bytes": len(compress(video, "gzip")[0])}


def median_ms(fn, repeats):
    """The median of `repeats` timed calls of fn(), in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def first_touch_ms(nbytes, idle_s=3.0):
    """(ms to first write every page of a fresh `nbytes` array right after an array of that size was freed,
    the same after `idle_s` seconds idle): what page faults cost the batch's frames buffer on this machine.
    A virtual machine that hands freed memory back to its host makes the second case far slower."""
    def touch():
        started = time.perf_counter()
        array = np.empty(nbytes // 4, dtype=np.float32)
        array[::1024] = 1.0  # one write per 4 KiB page
        elapsed = (time.perf_counter() - started) * 1000.0
        del array
        return elapsed
    touch()
    reused = touch()
    time.sleep(idle_s)
    return reused, touch()


def convoy_ms(video, repeats=5):
    """{name: (ms alone, ms while one other thread runs pure Python)} for decode_video and video_info.

    PyAV gives the GIL up around each demux, decode and conversion step and must take it back each time; with
    another thread busy in Python each take-back can wait a whole switch interval (5 ms), frame after frame."""
    from nodes.media.video_codec import decode_video, video_info

    def median(fn):
        fn()  # warm: the first decode pays for PyAV's codec set-up
        return median_ms(fn, repeats)
    functions = {"decode_video": lambda: decode_video(video), "video_info": lambda: video_info(video)}
    alone = {name: median(fn) for name, fn in functions.items()}
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            sum(range(1000))
    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        busy = {name: median(fn) for name, fn in functions.items()}
    finally:
        stop.set()
        thread.join()
    return {name: (alone[name], busy[name]) for name in functions}

"""Batch efficiency and cache hits: nodes.generation.run_batch with a real SegmindClient and the fake server.

The fake server (tests/fake_segmind.py) is a real HTTP server on 127.0.0.1 that holds each job for a fixed
latency. Two of its habits are harness artifacts, not Segmind's or the pack's costs, so they are taken out:
- it renders each answer video the first time it sees an input: every input's video is rendered before the
  clock starts;
- its handler (http.server) writes headers and body in separate sends without TCP_NODELAY, so an answer on a
  reused keep-alive connection can wait ~40 ms for the client's delayed ACK (Nagle's algorithm; see
  reused_connection_ms). In a v2 call that hits at least the result fetch right after the last status poll.
  Real HTTP servers do not behave so; the benchmark turns on TCP_NODELAY for its own server instances.
"""

import math
import statistics
import tempfile
import time
from dataclasses import dataclass

import requests
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.jobs.batch import run_batch
from nodes.media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from nodes.common.params import validate_params
from nodes.jobs.cache import ResultCache
from nodes.segmind.client import SegmindClient


class BenchFailure(AssertionError):
    """The pack did something wrong (not merely slowly): the benchmark exits non-zero."""


@dataclass
class BatchRow:
    mode: str
    poll_interval: float
    concurrency: int
    images: int
    latency: float
    wall: float
    posts: int

    @property
    def ideal(self):
        return math.ceil(self.images / self.concurrency) * self.latency

    @property
    def efficiency(self):
        return self.ideal / self.wall


@dataclass
class CacheRow:
    miss_wall: float
    miss_requests: int
    hit_wall: float
    hit_requests: int
    client_created: int


def _client_factory(fake, mode, poll_interval, counter=None):
    def make():
        if counter is not None:
            counter.append(1)
        return SegmindClient(TEST_KEY, base_url=fake.base_url, mode=mode, poll_interval=poll_interval)
    return make


def _prewarm(fake, images, params):
    """Render the fake's answer for each input now; returns the videos each slot must come back with."""
    wire = validate_params(params)
    batch = to_numpy_batch(images)
    return [fake.expected_video(image_to_base64(image_to_uint8(batch[i])), wire) for i in range(batch.shape[0])]


def _check_clips(clips, expected, what):
    if len(clips) != len(expected):
        raise BenchFailure(f"{what}: {len(clips)} clips for {len(expected)} images")
    for i, (clip, video) in enumerate(zip(clips, expected)):
        if clip is None or clip.video != video:
            raise BenchFailure(f"{what}: image {i + 1} came back with another image's video (or none)")


def _fake_server(latency, nodelay=True):
    fake = FakeSegmind(latency=latency, video_scale=0.25).start()
    # Per server: RequestHandlerClass is the subclass FakeSegmind.start() made for this instance only.
    fake._server.RequestHandlerClass.disable_nagle_algorithm = nodelay
    return fake


def reused_connection_ms(nodelay, repeats=5):
    """Median time of a small answer on a reused keep-alive connection to the fake server."""
    fake = _fake_server(0.0, nodelay)
    try:
        with requests.Session() as session:
            url = f"{fake.base_url}/outputs/none.mp4"  # a small 404 JSON answer, like a status poll's
            session.get(url)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                session.get(url)
                times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000.0
    finally:
        fake.stop()


def batch_row(fake, images, params, expected, mode, poll_interval, concurrency):
    """One timed run_batch of all images, no cache; checks one billed POST per image and the right videos."""
    before = len(fake.accepted_posts())
    started = time.perf_counter()
    clips = run_batch(images, params, base_url=fake.base_url, concurrency=concurrency, cache=None,
                      client_factory=_client_factory(fake, mode, poll_interval))
    wall = time.perf_counter() - started
    posts = len(fake.accepted_posts()) - before
    what = f"{mode} concurrency {concurrency}"
    if posts != len(expected):
        raise BenchFailure(f"{what}: {posts} billed POSTs for {len(expected)} images (lost or duplicated)")
    _check_clips(clips, expected, what)
    return BatchRow(mode, poll_interval, concurrency, len(expected), fake.latency, wall, posts)


def batch_rows(images, params, latency, plan):
    """plan: [(mode, poll_interval, concurrency)], in order, against one fake server with a fixed latency."""
    fake = _fake_server(latency)
    try:
        expected = _prewarm(fake, images, params)
        return [batch_row(fake, images, params, expected, *step) for step in plan]
    finally:
        fake.stop()


def cache_row(image, params, latency, repeats, poll_interval):
    """A miss then `repeats` hits of the same image through a ResultCache in a temp dir."""
    fake = _fake_server(latency)
    try:
        with tempfile.TemporaryDirectory() as folder:
            return _cache_runs(fake, ResultCache(folder), image, params, repeats, poll_interval)
    finally:
        fake.stop()


def _cache_runs(fake, cache, image, params, repeats, poll_interval):
    expected = _prewarm(fake, image, params)
    created = []
    factory = _client_factory(fake, "v2", poll_interval, created)

    def run():
        return run_batch(image, params, base_url=fake.base_url, client_factory=factory, cache=cache)

    started = time.perf_counter()
    _check_clips(run(), expected, "cache miss")
    miss_wall = time.perf_counter() - started
    miss_requests, miss_created = len(fake.recorded()), len(created)
    hits = []
    for _ in range(repeats):
        started = time.perf_counter()
        clips = run()
        hits.append(time.perf_counter() - started)
        _check_clips(clips, expected, "cache hit")
        if clips[0].source != "cache":
            raise BenchFailure(f"cache hit: the clip came from {clips[0].source!r}, not the cache")
    hit_requests = len(fake.recorded()) - miss_requests
    client_created = len(created) - miss_created
    if hit_requests or client_created:
        raise BenchFailure(f"cache hit made {hit_requests} request(s) and created {client_created} client(s)")
    hits.sort()
    return CacheRow(miss_wall, miss_requests, hits[len(hits) // 2], hit_requests, client_created)

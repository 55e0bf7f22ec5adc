"""Paid nodes inside the ComfyUI host emulation (tests/comfy_host.py), against the fake server over HTTP.

The pack is loaded the way ComfyUI loads it, into a stand-in ComfyUI installed in a temp dir, with its
settings taken from the environment as tests/conftest.py sets them (SEGMIND_BASE_URL, SEGMIND_API_KEY,
SEGMIND_CACHE_DIR, everything else unset: the node's own defaults). run_graph runs the node coroutines of one
prompt in one event loop in a worker thread, as ComfyUI's executor does.

- graph_rows: wall time of a graph of 3 paid nodes (Pan Left, Zoom In, CW from one image) against one node
  alone, alternating, each run with a fresh cache dir so nothing is served from the cache;
- paid_once_rows: the cases where identical work must be paid once, with the POSTs each one made.
"""

import contextlib
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from comfy_host import Host, InterruptProcessingException, load_pack, mp4_bytes, run_graph, widgets
from fake_segmind import FakeSegmind
from nodes.common.params import validate_params
from nodes.media.image_codec import image_to_base64, image_to_uint8, to_numpy_batch
from nodes.media.video_codec import decode_video
from nodes.node_inputs import params_from

from bench_batch import BenchFailure

PAID = "SegmindMotionCtrlSVD"
ENV = ("SEGMIND_API_KEY", "SEGMIND_API_MODE", "SEGMIND_BASE_URL", "SEGMIND_API_KEY_FILE", "SEGMIND_CONCURRENCY",
       "SEGMIND_TIMEOUT", "SEGMIND_CACHE_DIR", "SEGMIND_MAX_CALLS_PER_RUN", "SEGMIND_DAILY_BUDGET")
GRAPH_MOTIONS = ("Pan Left", "Zoom In", "CW")


def node(node_id, image, **changes):
    return (node_id, PAID, dict(image=image, **widgets(**changes)))


class Hosted:
    """A stand-in ComfyUI in a temp dir with the pack loaded into it (one engine, as in one ComfyUI process)."""

    def __init__(self, fake, **env):
        self.fake, self.env = fake, env
        self.runs = 0

    def __enter__(self):
        self._saved = {name: os.environ.get(name) for name in ENV}
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = Path(self._tmp.name)
        for name in ENV:
            os.environ.pop(name, None)
        os.environ.update(SEGMIND_BASE_URL=self.fake.base_url, SEGMIND_API_KEY=self.fake.api_key)
        os.environ.update({name: str(value) for name, value in self.env.items()})
        self.fresh_cache()
        self.host = Host(self.tmp).install()
        self.pack = load_pack()
        return self

    def fresh_cache(self):
        """A new, empty result cache for the runs that follow (read by the node on every run)."""
        self.runs += 1
        os.environ["SEGMIND_CACHE_DIR"] = str(self.tmp / f"cache-{self.runs}")

    def run(self, nodes):
        return run_graph(self.pack, nodes)

    def statuses(self, node_id):
        return [d for e, d in self.host.events if e == "segmind_motionctrl.status" and d["node"] == node_id]

    def __exit__(self, *exc):
        self.host.uninstall()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._tmp.cleanup()


def expected_video(fake, image, **changes):
    """The video the fake answers for the node's image and widgets (rendered now, before any clock starts)."""
    pixels = image_to_uint8(to_numpy_batch(image)[0])
    return fake.expected_video(image_to_base64(pixels), validate_params(params_from(widgets(**changes))))


def _check_outputs(out, expected, what):
    for node_id, video in expected.items():
        result = out[node_id]["result"]
        if mp4_bytes(result[2]) != video:
            raise BenchFailure(f"{what}: node {node_id} came back with another node's video (or none)")
        if result[0].shape[0] != 14:
            raise BenchFailure(f"{what}: node {node_id} has {result[0].shape[0]} frames, not 14")


# ---- 3 paid nodes of one graph -----------------------------------------------------------------------------

@dataclass
class GraphRow:
    latency: float
    single: list  # wall seconds of one node alone, per repeat
    graph: list  # wall seconds of the 3-node graph, per repeat
    posts_single: int
    posts_graph: int
    submit_spread: float  # seconds between the first and the last POST of the graph (median over repeats)

    @property
    def ratio(self):
        return statistics.median(self.graph) / statistics.median(self.single)


def graph_rows(image, latency, repeats, video_scale=1.0, warm_up=True):
    """One node alone, then the 3-node graph, alternating `repeats` times on one loaded pack."""
    fake = FakeSegmind(latency=latency, video_scale=video_scale).start()
    try:
        expected = {str(i + 1): expected_video(fake, image, motion=m) for i, m in enumerate(GRAPH_MOTIONS)}
        with Hosted(fake) as hosted:
            one = [node("1", image, motion=GRAPH_MOTIONS[0])]
            three = [node(str(i + 1), image, motion=m) for i, m in enumerate(GRAPH_MOTIONS)]
            if warm_up:  # imports, the first HTTP connections
                hosted.fresh_cache()
                hosted.run([node("9", image, motion=GRAPH_MOTIONS[0], seed=1)])
            single, graph, spreads = [], [], []
            posts_single = posts_graph = 0
            for _ in range(repeats):
                for nodes, walls in ((one, single), (three, graph)):
                    hosted.fresh_cache()
                    before = len(fake.posts())
                    started = time.perf_counter()
                    out = hosted.run(nodes)
                    walls.append(time.perf_counter() - started)
                    posts = fake.posts()[before:]
                    if len(posts) != len(nodes):
                        raise BenchFailure(f"{len(nodes)} node(s) made {len(posts)} POSTs (lost or duplicated)")
                    _check_outputs(out, {n[0]: expected[n[0]] for n in nodes}, f"graph of {len(nodes)}")
                    if len(nodes) == 1:
                        posts_single = len(posts)
                    else:
                        posts_graph = len(posts)
                        spreads.append(max(p.time for p in posts) - min(p.time for p in posts))
        return GraphRow(latency, single, graph, posts_single, posts_graph, statistics.median(spreads))
    finally:
        fake.stop()


# ---- identical work is paid once ---------------------------------------------------------------------------

@dataclass
class PaidOnce:
    case: str
    posts: int
    accepted: int
    wall: float
    note: str


def _interrupt_when(host, condition, seconds=20.0):
    """ComfyUI's Cancel (the interrupt flag) as soon as condition() holds, from another thread."""
    fired = {}

    def watch():
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        fired["at"] = time.monotonic()
        host.interrupt = True
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return fired


def _wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _cancelled_run(hosted, nodes, what):
    fired = _interrupt_when(hosted.host, lambda: hosted.fake.posts())
    try:
        hosted.run(nodes)
    except InterruptProcessingException:
        pass
    else:
        raise BenchFailure(f"{what}: the cancel while the POST was in flight did not stop the node")
    if "at" not in fired:
        raise BenchFailure(f"{what}: the node ended before its POST was sent")


def _case(name, fake_options, env, body):
    fake = FakeSegmind(video_scale=0.25, **fake_options).start()
    try:
        with Hosted(fake, **env) as hosted:
            started = time.perf_counter()
            note = body(hosted)
            wall = time.perf_counter() - started
            return PaidOnce(name, len(fake.posts()), len(fake.accepted_posts()), wall, note)
    finally:
        fake.stop()


def paid_once_rows(image, in_flight_s):
    """Each case on its own fake server and freshly loaded pack; `in_flight_s`: how long a POST is held."""
    rows = []

    def batch_of_three(hosted):
        expected = expected_video(hosted.fake, image)
        out = hosted.run([node("7", _repeat(image, 3))])
        frames = out["7"]["result"][0]
        if frames.shape[0] != 42:
            raise BenchFailure(f"a batch of one image 3 times gave {frames.shape[0]} frames, not 42")
        if not (frames[:14].equal(frames[14:28]) and frames[:14].equal(frames[28:])):
            raise BenchFailure("a batch of one image 3 times gave different frames for the same image")
        if not np.array_equal(frames[:14].numpy(), decode_video(expected).frames):
            raise BenchFailure("a batch of one image 3 times came back with another image's frames")
        return "one node, IMAGE batch [img, img, img]: 42 frames, all three clips equal"
    rows.append(_case("a batch holding one image 3 times", {}, {}, batch_of_three))

    def two_nodes(hosted):
        expected = expected_video(hosted.fake, image)
        out = hosted.run([node("1", image), node("2", image)])
        _check_outputs(out, {"1": expected, "2": expected}, "two identical nodes")
        return "run_graph with two identical nodes; both get the same video"
    rows.append(_case("two identical nodes running at once", {"latency": in_flight_s}, {}, two_nodes))

    def rerun_after_kept(hosted):
        expected = expected_video(hosted.fake, image)
        hosted.fake.inject("delay", on="v1", seconds=in_flight_s)
        _cancelled_run(hosted, [node("7", image)], "v1 re-run after a cancel")
        if not _wait_for(lambda: any(s["state"] == "kept" for s in hosted.statuses("7")), in_flight_s + 10):
            raise BenchFailure("v1 re-run after a cancel: the paid video that arrived after the cancel was not kept")
        out = hosted.run([node("7", image)])
        _check_outputs(out, {"7": expected}, "v1 re-run after a cancel")
        if "from cache, $0" not in out["7"]["ui"]["segmind_status"][0]:
            raise BenchFailure("v1 re-run after a cancel: the kept video was not served from the cache")
        return "cancel while the POST is in flight, the paid video arrives and is kept; the re-run is a cache hit"
    rows.append(_case("v1: a re-run after a cancel while the POST was in flight", {"latency": 0.2},
                      {"SEGMIND_API_MODE": "v1"}, rerun_after_kept))

    for mode in ("v1", "v2"):
        def requeue(hosted, mode=mode):
            expected = expected_video(hosted.fake, image)
            hosted.fake.inject("delay", on=mode, seconds=in_flight_s)
            _cancelled_run(hosted, [node("7", image)], f"{mode} cancel-then-requeue")
            if not hosted.fake.posts() or hosted.fake.accepted_posts():
                still = "answered already" if hosted.fake.accepted_posts() else "not sent"
                raise BenchFailure(f"{mode} cancel-then-requeue: the first POST was {still} at the re-queue")
            out = hosted.run([node("7", image)])  # at once, while the first POST still waits for its answer
            _check_outputs(out, {"7": expected}, f"{mode} cancel-then-requeue")
            return "re-queued at once: the second run joins the first call"
        rows.append(_case(f"{mode}: cancel, then re-queue while the POST is in flight", {"latency": 0.2},
                          {"SEGMIND_API_MODE": mode}, requeue))
    for row in rows:
        if row.posts != 1 or row.accepted != 1:
            raise BenchFailure(f"{row.case}: {row.posts} POSTs ({row.accepted} billed) for one piece of work")
    return rows


def _repeat(image, count):
    import torch

    return torch.cat([image] * count, dim=0)

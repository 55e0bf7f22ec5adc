"""Benchmark of the pack's own costs around a Segmind call, next to common alternatives, in one run.

    .venv/bin/python benchmarks/bench.py --out benchmarks/RESULTS.md   full run: the README numbers (~5 min)
    .venv/bin/python benchmarks/bench.py --quick                       CI smoke test (under a minute)
(times on 2 cores). The report goes to stdout, and to --out FILE when given; progress goes to stderr.

It measures (section numbers match the report):
 1. per-call overhead outside the API, by stage, at a 1024x576 input and a 14-frame 1024x576 clip: image →
    upload body, and MP4 bytes → frames tensor; next to a full-size PNG upload, PIL's default PNG level, an
    ffmpeg subprocess, imageio's default plugin and a naive PyAV loop, as ratios; decode_video and
    video_info against the PyAV floor (the least any decoder must do), also in a process holding 3 million
    more live objects; colour matching of a clip for chained calls;
 2. peak extra memory of one decode (each decoder in a fresh process) against the output tensor's size;
 3. upload bytes per image;
 4. poll lag: the pack's PollSchedule against the grids it replaced and Segmind's own, over 55-65 s jobs,
    and the real client over HTTP on the scaled schedule;
 5. a graph of 3 paid nodes against one node alone, through the ComfyUI host emulation (4 s jobs, defaults);
 6. batch efficiency: run_batch over 8 distinct 1024x576 images on a fresh job engine, full-size clips, 2 s
    jobs, concurrency 1, 2, 4, v2 and v1, end to end (frames array out), with where the time goes;
 7. identical work is paid once: POSTs counted for a batch holding one image 3 times, two identical nodes,
    a re-run after a cancel, cancel-then-requeue (v1, v2);
 8. a cache hit: time and requests (must be none).
Ratios, not absolute times, are the point: the alternatives run on the same machine, inputs and run.

Exit status: 0 when the benchmark ran, whatever the timings; 1 when the pack did something wrong (decoders
disagree by more than 1/255, a lost or duplicated request, identical work paid more than once, a video
matched to the wrong image, a cache hit that made a request). Targets that are missed are marked in the
report, not turned into failures: timings on a shared CI machine are not a verdict.

The imageio rows (the pack's decoder before it dropped imageio, imageio's default plugin) need imageio,
which tests/requirements.txt installs for this benchmark only; without it they are left out.
The ffmpeg row needs an ffmpeg binary: imageio-ffmpeg's bundled one if that package is installed, else
`ffmpeg` on PATH, else the row is skipped with a note. imageio-ffmpeg is for this benchmark only (install it
with `.venv/bin/pip install imageio-ffmpeg`); it is not, and must not become, a dependency of the pack.
"""

import argparse
import gc
import io
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(HERE)]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import bench_batch  # noqa: E402
import bench_decode  # noqa: E402
import bench_graph  # noqa: E402
import bench_memory  # noqa: E402
import bench_polling  # noqa: E402
import bench_upload  # noqa: E402
from bench_batch import BenchFailure  # noqa: E402
from bench_inputs import (PHOTO_SIZE, flat_graphic, model_sized_batch, photo_like, resized,  # noqa: E402
                          result_frames)
from bench_report import full_collections, machine_rows, mark, median_ms, mib, ms, ratio, table  # noqa: E402
from fake_segmind import TEST_KEY, FakeSegmind  # noqa: E402
from nodes.media.image_codec import PNG_COMPRESS_LEVEL as PACK_LEVEL  # noqa: E402
from nodes.media.image_codec import image_to_base64, image_to_uint8  # noqa: E402
from nodes.common.params import validate_params  # noqa: E402
from nodes.media.color_match import match_colors  # noqa: E402
from nodes.media.video_codec import encode_mp4  # noqa: E402
from nodes.segmind.client import SegmindClient  # noqa: E402
from nodes.jobs.engine import SUBMIT_PRIORITY_S  # noqa: E402

CALL_SECONDS = 60.0
OVERHEAD_TARGET = 0.01
MEMORY_TARGET = 1.2
FLOOR_TARGET = 1.5  # decode_video's time / the PyAV floor's, in a plain and in a crowded process
COLOR_MATCH_TARGET_S = 0.5
EFFICIENCY_TARGET = 0.85  # batch of 8 at concurrency 4, 2 s jobs, end to end
EFFICIENCY_BEFORE = "39% end to end (calls alone 66%)"
GRAPH_TARGET = 1.2  # wall of the 3-node graph / wall of one node alone
GRAPH_BEFORE = 3.0  # the nodes ran one after another
PAID_ONCE_BEFORE = "2-3 POSTs"
NODE_CONCURRENCY = 4  # the engine's default when SEGMIND_CONCURRENCY is unset (nodes/common/settings.py)
TOLERANCE = 1.0 / 255.0 + 1e-6  # float rounding of x/255 vs x*(1/255) is far below one level


@dataclass(frozen=True)
class Config:
    quick: bool
    repeats_small: int  # 1024x576 image stages and decodes (tens of ms each)
    repeats_large: int  # 4032x3024 paths (up to seconds each)
    memory_repeats: int
    memory_all: bool  # every decoder's memory row (else the pack's rows only)
    full_photo_upload: bool  # the multi-second full-size 12 MP PNG rows
    extra_objects: int  # live objects added for the crowded-process decode runs
    poll_durations: tuple  # stand-in job lengths for the client over HTTP (x10 = the real job length)
    graph_latency: float
    graph_repeats: int
    batch_images: int
    latency: float
    batch_video_scale: float
    target_repeats: int  # runs of the concurrency-4 batches (the target); the median run is reported
    in_flight_s: float  # how long a POST is held in the paid-once cases
    cache_repeats: int


FULL = Config(False, repeats_small=21, repeats_large=3, memory_repeats=3, memory_all=True, full_photo_upload=True,
              extra_objects=3_000_000, poll_durations=(5.6, 6.0, 6.3), graph_latency=4.0, graph_repeats=3,
              batch_images=8, latency=2.0, batch_video_scale=1.0, target_repeats=3, in_flight_s=1.5,
              cache_repeats=9)
QUICK = Config(True, repeats_small=3, repeats_large=1, memory_repeats=1, memory_all=False, full_photo_upload=False,
               extra_objects=300_000, poll_durations=(1.2,), graph_latency=1.0, graph_repeats=1, batch_images=4,
               latency=0.3, batch_video_scale=0.25, target_repeats=1, in_flight_s=0.6, cache_repeats=3)


@dataclass
class Inputs:
    photo: torch.Tensor  # [1,3024,4032,3] float32, a photo straight from a phone
    model: torch.Tensor  # [1,576,1024,3] float32, an image already at the model's size
    batch: torch.Tensor  # [N,576,1024,3] float32, distinct images for the batch runs
    video: bytes  # a 14-frame 1024x576 H.264 MP4 of `model` panning
    params: dict  # the node's default widget values, as sent on the wire
    small: torch.Tensor  # [1,144,256,3] float32, for the runs that count requests (fast to encode and render)
    graphic: torch.Tensor  # [1,576,1024,3] float32, a flat-colour graphic (where the PNG strategy costs bytes)


_STARTED = time.perf_counter()


def log(text):
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)  # stdout: report only


def make_inputs(cfg):
    photo = photo_like(*PHOTO_SIZE, seed=1)
    model = resized(photo, 1024, 576)
    video = encode_mp4(result_frames(model), fps=7)
    batch = model_sized_batch(photo, cfg.batch_images)
    small = resized(photo, 256, 144)
    return Inputs(_batch_tensor(photo), _batch_tensor(model), _batch_tensor(batch), video, validate_params({}),
                  _batch_tensor(small), _batch_tensor(flat_graphic(1024, 576)))


def _batch_tensor(array):
    """A ComfyUI IMAGE: [B,H,W,3] float32 torch tensor."""
    return torch.from_numpy(np.ascontiguousarray(array[None] if array.ndim == 3 else array))


# ---- 1a. image → upload body, by stage ---------------------------------------------------------------------

def _stage_inputs(tensor):
    pixels = bench_upload.to_uint8(tensor)
    png = bench_upload.encode_png(pixels)
    return {"tensor": tensor, "pixels": pixels, "png": png, "b64": bench_upload.to_base64(png)}


def upload_stages(cfg, inputs):
    """Markdown table and the per-call total (ms) at 1024x576."""
    sizes = [(inputs.model, cfg.repeats_small), (inputs.photo, cfg.repeats_large)]
    prepared = [_stage_inputs(tensor) for tensor, _ in sizes]
    rows, totals = [], [0.0, 0.0]
    for label, fn, takes in bench_upload.pack_stages(inputs.params):
        times = [median_ms(fn, stage[takes], repeats) for stage, (_, repeats) in zip(prepared, sizes)]
        if not label.startswith(" "):  # "of which" rows are already inside their stage
            totals = [t + s for t, s in zip(totals, times)]
        rows.append([label.replace("  ", "&nbsp;&nbsp;"), ms(times[0]), ms(times[1])])
    rows.append(["**total, image → upload body**", f"**{ms(totals[0])}**", f"**{ms(totals[1])}**"])
    header = ["Stage (median ms)", "1024x576 input", "4032x3024 photo (→ 1024x768)"]
    return table(header, rows), totals[0]


# ---- 1b. response → frames tensor, by stage ----------------------------------------------------------------

def _with_more_objects(measure, count):
    """measure() while the process holds `count` more small container objects (each one GC-tracked)."""
    ballast = [[i] for i in range(count)]
    try:
        return measure()
    finally:
        del ballast
        gc.collect()


def decode_stages(cfg, inputs):
    """Markdown table and the per-call total (ms) for one 14-frame 1024x576 clip."""
    n = cfg.repeats_small
    frames = bench_decode.frames_of([inputs.video])  # also the warm-up
    # Decode time and the collections inside it come from the same runs, so the split adds up.
    runs = [full_collections(bench_decode.frames_of, [inputs.video]) for _ in range(n)]
    gc_count = max(run[0] for run in runs)
    gc_ms = statistics.median(run[1] for run in runs)
    decode = statistics.median(run[2] for run in runs)
    codec = median_ms(bench_decode.pyav_decode_only, inputs.video, n)
    fill = median_ms(bench_decode.float_fill, bench_decode.rgb_frames(inputs.video), n)
    wrap = median_ms(lambda f: torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32)), frames, n)
    tracked = len(gc.get_objects())
    rows = [
        ["MP4 bytes → float32 frames (frames_of → decode_video)", ms(decode)],
        [f"&nbsp;&nbsp;of which: full garbage collections ({gc_count} per decode at most, {tracked:,} GC-tracked "
         "objects in this process)", ms(gc_ms)],
        ["&nbsp;&nbsp;of which: demux + H.264 decode + yuv → rgb24 (PyAV alone, measured apart)", ms(codec)],
        ["&nbsp;&nbsp;of which: uint8 → float32 into the preallocated buffer (measured apart)", ms(fill)],
        ["&nbsp;&nbsp;of which: the rest (limit checks, one reformatter, buffer)",
         ms(max(0.0, decode - gc_ms - codec - fill))],
        ["frames → torch tensor (np.ascontiguousarray + torch.from_numpy, no copy)", ms(wrap)],
        ["**total, response → frames tensor**", f"**{ms(decode + wrap)}**"],
    ]
    shape = "x".join(map(str, frames.shape))
    header = [f"Stage (median ms), output [{shape}] float32 = {mib(frames.nbytes)} MiB", "ms"]
    return table(header, rows), decode + wrap, gc_count


def floor_section(cfg, inputs):
    """decode_video, video_info (and imageio before) against the PyAV floor, in a plain and a crowded process."""
    n = cfg.repeats_small
    methods = bench_decode.floor_methods()
    plain = {name: median_ms(fn, inputs.video, n) for name, fn in methods}
    extra = cfg.extra_objects
    log(f"  floor: again with {extra:,} more live objects")
    crowded = _with_more_objects(lambda: {name: median_ms(fn, inputs.video, n) for name, fn in methods}, extra)
    floor_name = methods[0][0]
    rows = []
    for name, _ in methods:
        rows.append([name, ms(plain[name]), ratio(plain[name] / plain[floor_name]), ms(crowded[name]),
                     ratio(crowded[name] / crowded[floor_name])])
    header = ["14x1024x576 clip (median ms)", "ms", "vs PyAV floor",
              f"ms, {extra:,} more live objects", "vs PyAV floor there"]
    pack = "pack: decode_video"
    share, crowded_share = plain[pack] / plain[floor_name], crowded[pack] / crowded[floor_name]
    targets = [
        (f"decode_video time ≤ {FLOOR_TARGET}x the PyAV floor", f"{share:.2f}x", share <= FLOOR_TARGET),
        (f"decode_video time ≤ {FLOOR_TARGET}x the PyAV floor with {extra:,} more live objects",
         f"{crowded_share:.2f}x", crowded_share <= FLOOR_TARGET),
    ]
    return table(header, rows), targets


def color_match_section(cfg, inputs):
    """match_colors over the decoded clip, as the sequence node will call it once per chained clip."""
    frames = bench_decode.frames_of([inputs.video])
    source, target = frames[0].copy(), np.clip(frames[-1] * np.float32(1.03), 0, 1)
    work = frames.copy()
    rows, times = [], {}
    for label, workers in (("default threads", None), ("1 thread", 1)):
        # In place on the same copy each run: the values stay in 0..1, and the work is the same.
        times[label] = median_ms(lambda f: match_colors(f, source, target, workers=workers), work,
                                 max(3, cfg.repeats_small // 3))
        rows.append([f"match_colors, 14x1024x576 clip, {label}", ms(times[label])])
    seconds = times["default threads"] / 1000
    target_row = (f"match_colors on a 14-frame 1024x576 clip < {COLOR_MATCH_TARGET_S} s", f"{seconds:.2f} s",
                  seconds < COLOR_MATCH_TARGET_S)
    return table(["Colour matching for chained clips (median ms)", "ms"], rows), target_row


def overhead_table(upload_ms, decode_ms):
    total = upload_ms + decode_ms
    share = total / (CALL_SECONDS * 1000.0)
    rows = [["image → upload body", ms(upload_ms), f"{upload_ms / CALL_SECONDS / 10:.3f} %"],
            ["response → frames tensor", ms(decode_ms), f"{decode_ms / CALL_SECONDS / 10:.3f} %"],
            ["**per call**", f"**{ms(total)}**", f"**{share * 100:.3f} %**"]]
    text = table(["Per call at 1024x576, 14 frames", "ms", f"% of a {CALL_SECONDS:.0f} s call"], rows)
    target = (f"pack overhead per call < {OVERHEAD_TARGET:.0%} of a {CALL_SECONDS:.0f} s call",
              f"{ms(total)} ms = {share * 100:.2f} %", share < OVERHEAD_TARGET)
    return text, target


# ---- 1d / 3. upload alternatives and bytes -----------------------------------------------------------------

@dataclass
class Upload:
    input_name: str
    method: str
    sent_size: str
    ms: float
    png_bytes: int
    body_bytes: int


def measure_upload(input_name, method, tensor, encoder, params, repeats):
    """Time of the whole tensor → JSON body path with `encoder` as the PNG step; sizes of what it sends."""
    outputs = {}

    def build(source):  # the pack's steps, with `encoder` as the PNG step; keeps the PNG to measure it
        outputs["png"] = encoder(bench_upload.to_uint8(source))
        outputs["body"] = bench_upload.to_body(bench_upload.to_base64(outputs["png"]), params)

    # One run is enough for the multi-second paths; a warm-up would double their cost for nothing.
    elapsed = median_ms(build, tensor, repeats, warmup=0 if repeats == 1 else 1)
    sent = "x".join(map(str, Image.open(io.BytesIO(outputs["png"])).size))
    return Upload(input_name, method, sent, elapsed, len(outputs["png"]), len(outputs["body"]))


def upload_measurements(cfg, inputs):
    level, pil_level = bench_upload.png_at_level, bench_upload.PIL_DEFAULT_LEVEL
    p, small, large = inputs.params, cfg.repeats_small, cfg.repeats_large
    photo = f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} photo"
    plan = [
        ("1024x576", f"pack (compress level {PACK_LEVEL}, run-length strategy)", inputs.model,
         bench_upload.encode_png, small),
        ("1024x576", f"PIL default (compress level {pil_level})", inputs.model, level(pil_level, downscale=False),
         small),
        ("1024x576", f"before: compress level {PACK_LEVEL}, zlib's default strategy", inputs.model,
         level(PACK_LEVEL, downscale=False), small),
        ("1024x576", "compress level 1", inputs.model, level(1, downscale=False), small),
        ("1024x576", "compress level 9", inputs.model, level(9, downscale=False), small),
        ("1024x576 flat graphic", f"pack (compress level {PACK_LEVEL}, run-length strategy)", inputs.graphic,
         bench_upload.encode_png, small),
        ("1024x576 flat graphic", f"before: compress level {PACK_LEVEL}, zlib's default strategy", inputs.graphic,
         level(PACK_LEVEL, downscale=False), small),
        (photo, f"pack (downscale to cover 1024x576, level {PACK_LEVEL}, run-length)", inputs.photo,
         bench_upload.encode_png, large),
    ]
    if cfg.full_photo_upload:  # seconds per run: full mode only
        plan.append((photo, f"full size, no downscale (PIL default level {pil_level})", inputs.photo,
                     level(pil_level, downscale=False), large))
    if not cfg.quick:  # separates what the downscale saves from what the level saves; slow, so full mode only
        plan.append((photo, f"full size, no downscale, level {PACK_LEVEL}", inputs.photo,
                     level(PACK_LEVEL, downscale=False), large))
    results = []
    for name, method, tensor, encoder, repeats in plan:
        log(f"  upload: {name} {method}")
        results.append(measure_upload(name, method, tensor, encoder, p, repeats))
    return results


def _pack_for(results, input_name):
    return next(r for r in results if r.input_name == input_name and r.method.startswith("pack"))


def upload_alternatives_table(results):
    wanted = ("pack", "PIL default", "before:", "full size, no downscale (PIL")
    rows = []
    for r in results:
        if not r.method.startswith(wanted):
            continue
        base = _pack_for(results, r.input_name)
        rows.append([r.input_name, r.method, r.sent_size, ms(r.ms), ratio(r.ms / base.ms), f"{r.body_bytes:,}",
                     ratio(r.body_bytes / base.body_bytes)])
    header = ["Input", "Upload path (tensor → JSON body)", "Sent PNG", "median ms", "time vs pack",
              "body bytes", "bytes vs pack"]
    return table(header, rows)


def upload_bytes_table(results):
    rows = []
    for r in results:
        base = _pack_for(results, r.input_name)
        rows.append([r.input_name, r.method, r.sent_size, f"{r.png_bytes:,}", f"{r.body_bytes:,}",
                     ratio(r.body_bytes / base.body_bytes), ms(r.ms)])
    header = ["Input", "Encoding", "Sent PNG", "PNG bytes", "JSON body bytes (base64)", "vs pack",
              "tensor → body ms"]
    return table(header, rows)


# ---- 1e. decode alternatives -------------------------------------------------------------------------------

def decode_alternatives(cfg, inputs, exe):
    """Markdown table; raises BenchFailure when a decoder's frames differ from the pack's by more than 1/255."""
    reference = bench_decode.pack(inputs.video)
    rows, pack_ms = [], None
    for name, fn in bench_decode.methods(exe):
        log(f"  decode: {name}")
        frames = fn(inputs.video)
        if tuple(frames.shape) != tuple(reference.shape):
            raise BenchFailure(f"{name}: frames {tuple(frames.shape)}, the pack's {tuple(reference.shape)}")
        worst = float((frames - reference).abs().max())
        if not worst <= TOLERANCE:
            raise BenchFailure(f"{name}: frames differ from the pack's by up to {worst * 255:.2f}/255")
        elapsed = median_ms(fn, inputs.video, cfg.repeats_small)
        pack_ms = pack_ms or elapsed
        rows.append([name, ms(elapsed), ratio(elapsed / pack_ms), f"{worst * 255:.4f}/255"])
    if not exe:
        rows.append(["ffmpeg subprocess", "skipped: no ffmpeg binary (pip install imageio-ffmpeg)", "", ""])
    if bench_decode.iio is None:
        rows.append(["imageio default plugin", "skipped: imageio not installed", "", ""])
    header = ["Decoder (MP4 bytes → float32 frames tensor)", "median ms", "time vs pack", "max diff vs pack"]
    return table(header, rows)


# ---- 2. memory ---------------------------------------------------------------------------------------------

def _ffmpeg_peak(exe, path, cfg):
    peaks = sorted(bench_memory.command_peak(bench_decode.ffmpeg_command(exe, path)) for _ in range(cfg.memory_repeats))
    return peaks[len(peaks) // 2]


def memory_section(cfg, inputs, exe):
    """Markdown table, the pack's target rows, and the largest import-time peak above the baseline (MiB)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(inputs.video)
        rows, targets, hidden = [], [], 0
        for name, _ in bench_decode.memory_methods(exe):
            if not cfg.memory_all and not name.startswith("pack"):
                continue
            log(f"  memory: {name}")
            runs = sorted((bench_memory.measure(name, path) for _ in range(cfg.memory_repeats)),
                          key=lambda r: r["peak"] - r["baseline"])
            run = runs[len(runs) // 2]
            extra = run["peak"] - run["baseline"]
            share = extra / run["output_bytes"]
            if run["resident_at_baseline"] is not None:
                hidden = max(hidden, run["baseline"] - run["resident_at_baseline"])
            child = mib(_ffmpeg_peak(exe, path, cfg)) if name.startswith("ffmpeg") else "—"
            rows.append([name, mib(run["baseline"]), mib(run["peak"]), mib(extra), mib(run["output_bytes"]),
                         ratio(share), child, mark(share <= MEMORY_TARGET)])
            if name.startswith("pack"):
                what = "one clip" if name.startswith("pack:") else f"batch of {bench_decode.BATCH_CLIPS} clips"
                targets.append((f"peak extra memory while decoding ≤ {MEMORY_TARGET}x the output tensor ({what})",
                                f"{share:.2f}x", share <= MEMORY_TARGET))
    if not exe:
        rows.append(["ffmpeg subprocess", "skipped: no ffmpeg binary", "", "", "", "", "", ""])
    header = ["Decoder", "baseline MiB (ru_maxrss)", "peak MiB (ru_maxrss)", "peak extra MiB", "output tensor MiB",
              "extra / output", "ffmpeg process peak MiB", f"≤ {MEMORY_TARGET}x"]
    return table(header, rows), targets, max(0, hidden) / 1024 ** 2


# ---- 4. poll lag -------------------------------------------------------------------------------------------

POLL_TOLERANCE_S = 0.03  # one status poll plus the result fetch, on the loopback (before the x10)


def polling_section(cfg, inputs):
    rows = bench_polling.schedule_rows()
    header = ["Schedule", "mean lag, 55-65 s jobs (s)", "worst lag (s)", "mean polls per job", "most polls",
              "mean lag, 50-70 s jobs (s)", "most polls, 50-70 s"]
    schedules = table(header, rows)
    mean, max_polls = bench_polling.pack_spread()
    lag_s, polls_t = bench_polling.LAG_TARGET_S, bench_polling.POLLS_TARGET
    targets = [(f"poll lag: mean < {lag_s} s per job (PollSchedule(), jobs of 55-65 s)", f"{mean:.3f} s",
                mean < lag_s),
               (f"status polls per job ≤ ~{polls_t} (PollSchedule(), most over 55-65 s jobs)", str(max_polls),
                max_polls <= polls_t)]
    log(f"  polling: the client over HTTP, {len(cfg.poll_durations)} job(s) on the schedule scaled x{bench_polling.SCALE}")
    image_b64 = image_to_base64(image_to_uint8(inputs.small[0].numpy()))

    def fake_factory(duration):
        return FakeSegmind(latency=duration, video_scale=0.25)

    def client_factory(fake, schedule):
        return SegmindClient(TEST_KEY, base_url=fake.base_url, mode="v2", schedule=schedule)
    measured = bench_polling.measured_rows(fake_factory, client_factory, image_b64, inputs.params,
                                           cfg.poll_durations)
    scale = bench_polling.SCALE
    http_rows, kept = [], True
    for duration, computed, lag, polls, scheduled in measured:
        ok = polls == scheduled and abs(lag - computed) * scale <= POLL_TOLERANCE_S
        kept = kept and ok
        http_rows.append([f"{duration * scale:.2f} s (a {duration:.0f} s job)", f"{computed:.3f}", f"{lag:.3f}",
                          f"{(lag - computed) * scale * 1000:+.1f} ms", scheduled, polls, mark(ok)])
    http = table(["stand-in job (x10 = the job it stands for)", "lag on the schedule, computed (s, x10)",
                  "lag measured over HTTP (s, x10)", "difference (real ms)", "polls on the schedule",
                  "status polls made (fake server's count)", "keeps to its schedule"], http_rows)
    targets.append(("the client keeps to its poll schedule over HTTP (polls as computed, lag within "
                    f"{POLL_TOLERANCE_S * 1000:.0f} ms)", f"{sum(1 for r in http_rows if r[-1].startswith('✅'))}"
                    f"/{len(http_rows)} jobs", kept))
    return schedules, http, targets


# ---- 5. a graph of 3 paid nodes ----------------------------------------------------------------------------

def graph_section(cfg, inputs):
    log(f"  graph: one node, then 3 nodes, x{cfg.graph_repeats}, {cfg.graph_latency:g} s jobs")
    row = bench_graph.graph_rows(inputs.model, cfg.graph_latency, cfg.graph_repeats, cfg.batch_video_scale,
                                 warm_up=not cfg.quick)
    walls = lambda values: ", ".join(f"{v:.2f}" for v in values)  # noqa: E731
    single, graph = statistics.median(row.single), statistics.median(row.graph)
    rows = [["one node alone (Pan Left)", walls(row.single), f"**{single:.2f}**", row.posts_single, "1.00x"],
            ["graph of 3 nodes (Pan Left, Zoom In, CW; one image)", walls(row.graph), f"**{graph:.2f}**",
             row.posts_graph, f"**{row.ratio:.2f}x**"],
            ["before: the 3 nodes one after another (from the issue)", "", "", "", f"{GRAPH_BEFORE:.1f}x"]]
    text = table(["run_graph in the host emulation", "wall s, each run", "median s", "POSTs", "vs one node"], rows)
    name = (f"a graph of 3 paid nodes ≤ {GRAPH_TARGET}x one node alone ({cfg.graph_latency:g} s jobs, defaults; "
            f"before {GRAPH_BEFORE:.1f}x)")
    if cfg.quick:
        target = (name, f"{row.ratio:.2f}x (quick mode: {cfg.graph_latency:g} s jobs, not judged)", None)
    else:
        target = (name, f"{row.ratio:.2f}x", row.ratio <= GRAPH_TARGET)
    return text, target, row


# ---- 6. batch efficiency -----------------------------------------------------------------------------------

def batch_section(cfg, inputs):
    plan = [(mode, c) for mode in ("v2", "v1") for c in (1, 2, 4)]
    if cfg.quick:  # a smoke test: both APIs, one and several calls at once
        plan = [("v2", 1), ("v2", 4), ("v1", 4)]
    log(f"  batch: {len(plan)} runs of {cfg.batch_images} images at {cfg.latency:g} s "
        f"(concurrency 4 x{cfg.target_repeats})")
    results = {}
    with bench_batch.fake_server(cfg.latency, cfg.batch_video_scale) as fake:
        expected = bench_batch.prewarm(fake, inputs.batch, inputs.params)
        warm = bench_batch.prewarm(fake, inputs.batch[:2], inputs.params)
        bench_batch.batch_row(fake, inputs.batch[:2], inputs.params, warm, "v2", 2)  # warm-up, not reported
        for mode, concurrency in plan:
            repeats = cfg.target_repeats if concurrency == 4 else 1
            runs = [bench_batch.batch_row(fake, inputs.batch, inputs.params, expected, mode, concurrency)
                    for _ in range(repeats)]
            runs.sort(key=lambda r: r.wall)
            results[(mode, concurrency)] = (runs[len(runs) // 2], runs)
    server = bench_batch.server_side_ms(inputs.model, inputs.params, expected[0])
    server["convoy"] = bench_batch.convoy_ms(expected[0], repeats=3 if cfg.quick else 5)
    frames_bytes = results[("v2", 4)][0].images * 14 * 576 * 1024 * 3 * 4
    if cfg.batch_video_scale == 1.0:
        server["touch"] = bench_batch.first_touch_ms(frames_bytes, idle_s=1.0 if cfg.quick else 3.0)
        server["frames_bytes"] = frames_bytes
    return results, server


def batch_tables(cfg, results):
    rows, phase_rows = [], []
    for (mode, concurrency), (r, runs) in results.items():
        spread = (f" ({', '.join(f'{x.efficiency:.0%}' for x in runs)})" if len(runs) > 1 else "")
        judged = concurrency == 4 and not cfg.quick
        rows.append([mode, concurrency, r.images, f"{r.latency:g} s", f"{r.ideal:.2f}", f"{r.calls_wall:.2f}",
                     f"{r.calls_efficiency:.1%}", f"{r.wall:.2f}", f"**{r.efficiency:.1%}**{spread}", r.posts,
                     r.status_polls, mark(r.efficiency >= EFFICIENCY_TARGET) if judged else "—"])
        p = bench_batch.mean_phases(r)
        cell = lambda key: ms(p[key]) if p.get(key) is not None else "—"  # noqa: E731
        phase_rows.append([mode, concurrency, cell("encode"), cell("upload"), cell("lag"), cell("download"),
                           cell("http"), cell("check"), cell("decode")])
    header = ["API", "concurrency", "images", "job", "ideal s", "calls done s", "calls alone",
              "end to end s (frames out)", "end to end", "billed POSTs", "status polls",
              f"≥ {EFFICIENCY_TARGET:.0%}"]
    phases = table(["API", "concurrency", "PNG encode", "upload (POST until the job exists)", "poll lag",
                    "result JSON + video download", "v1: answer beyond the latency",
                    "the check: decode into the batch buffer", "decode after the check"], phase_rows)
    return table(header, rows), phases


def batch_breakdown(results):
    """The critical path of the median concurrency-4 runs, phase by phase, against the gap to the ideal."""
    text, gaps = [], {}
    for mode in ("v2", "v1"):
        r = results[(mode, 4)][0]
        spent, length = bench_batch.breakdown(r)
        gap = r.wall - r.ideal
        waves = math.ceil(r.images / r.concurrency)
        rows = [[name, ms(value * 1000), f"{value / gap:.0%}" if gap > 0 else "—"]
                for name, value in spent.items() if value > 0.0005 or name.startswith("PNG")]
        rows.append([f"**total beyond {length} x {r.latency:g} s of job time**",
                     f"**{ms((r.wall - length * r.latency) * 1000)}**", ""])
        text.append(f"**{mode}, concurrency 4** (median run; {length} calls on the path, {waves} waves): wall "
                    f"{r.wall:.2f} s, ideal {r.ideal:.2f} s, gap {ms(gap * 1000)} ms\n\n"
                    + table(["on the critical path", "ms", "share of the gap"], rows))
        gaps[mode] = (spent, gap)
    return "\n\n".join(text), gaps


def batch_targets(cfg, results):
    targets = []
    for mode, label in (("v2", "v2 (auto, the node's default)"), ("v1", "v1")):
        r = results[(mode, 4)][0]
        name = (f"batch of {r.images} at concurrency 4, {r.latency:g} s jobs, end to end ≥ {EFFICIENCY_TARGET:.0%} "
                f"of ideal: {label}")
        value = f"{r.efficiency:.1%} (calls alone {r.calls_efficiency:.1%}; before {EFFICIENCY_BEFORE})"
        if cfg.quick:
            targets.append((name, f"{r.efficiency:.1%} (quick mode: {r.latency:g} s jobs, not judged)", None))
        else:
            targets.append((name, value, r.efficiency >= EFFICIENCY_TARGET))
    return targets


def batch_note(cfg, results, server, gaps, upload_ms):
    r4 = results[("v2", 4)][0]
    schedule = bench_batch.job_schedule(cfg.latency)
    lines = [
        f"Each run: `asyncio.run(run_batch(...))` on a fresh `Engine(concurrency=...)`, cache=None, "
        f"{cfg.batch_images} distinct {inputs_size()} images, {_clip_size(cfg)} from the fake server, "
        f"{cfg.latency:g} s jobs; the clock runs from the call of "
        "run_batch until the frames array is out and wrapped by torch.from_numpy. Ideal = ceil(images / "
        f"concurrency) x {cfg.latency:g} s. 'Calls alone' stops the clock when the last call's video has passed "
        "the engine's check, which for these clips is their decode into the batch buffer (a clip that is not the "
        "plain case, e.g. without a frame count in its header, is checked with video_info and decoded after). The fake's answer videos are rendered before the clock starts, "
        "and one small warm-up batch runs first (not reported). Concurrency-4 rows are the median of "
        f"{cfg.target_repeats} runs (all runs' efficiencies in brackets).",
        f"Polling is not what is measured: the client polls on the pack's schedule scaled to the job, "
        f"`PollSchedule().scaled({cfg.latency:g} / 60)` (first poll after {schedule.first_s * 1000:.0f} ms, "
        f"every {schedule.min_s * 1000:.0f} ms around the expected end), the same shape as around a 60 s job; the "
        "first status poll of every job is answered 404 (the fake's CDN habit) and asked again on the schedule.",
        f"Per call, the fake server (in this same process, on the same 2 cores) also reads and checks each "
        f"{server['body_bytes'] / 1e6:.2f} MB upload (JSON, base64, PNG check: {ms(server['parse'])} ms measured "
        f"apart) and gzips each {server['video_bytes'] / 1e6:.2f} MB clip for the download "
        f"({ms(server['gzip'])} ms measured apart); a real API does that on its own machines. The image → upload "
        f"body path alone is {ms(upload_ms)} ms (section 1a).",
    ]
    if "touch" in server:
        reused, idle = server["touch"]
        lines.append(
            f"The frames buffer of a batch of {cfg.batch_images} is {mib(server['frames_bytes'])} MiB, written once "
            f"by the decodes. First writes to fresh memory cost page faults: on this machine {ms(reused)} ms for the "
            f"whole buffer right after a buffer that size was freed, but {ms(idle)} ms after 3 s idle (measured "
            "apart), because this virtual machine hands freed memory back to its host, so each clip's decode pays "
            f"about {ms(idle / cfg.batch_images)} ms more than section 1f's decode into reused memory.")
    convoy = server["convoy"]
    (d_alone, d_busy), (i_alone, i_busy) = convoy["decode_video"], convoy["video_info"]
    lines.append(
        f"The decodes and checks run far slower inside the batch than alone (medians above against section 1f), "
        f"because of the GIL: measured apart on one of these clips, decode_video takes {ms(d_alone)} ms alone "
        f"and {ms(d_busy)} ms ({d_busy / d_alone:.1f}x) while one other thread runs pure Python; video_info "
        f"{ms(i_alone)} ms and {ms(i_busy)} ms ({i_busy / i_alone:.1f}x). PyAV gives the GIL up around every "
        "demux, decode and conversion step and has to take it back each time; with a Python-busy thread each "
        "take-back can wait a whole switch interval (5 ms). In these runs the Python-busy threads are the calls' "
        "HTTP (the scaled schedule polls every 15 ms near a job's end) and the fake server's handlers, in this "
        "same process; with real ~60 s jobs the pack polls every 0.45 s at most, but any other Python work in "
        "the ComfyUI process (its web server, other nodes) has the same effect on the pack's decodes.")
    lines.append(
        "The engine's local CPU work takes turns (nodes/jobs/cpu_turns.py): at most one encode or check per core, "
        "and the work with time to spare (the check of a video that arrived, the encode of an image whose call "
        "must wait for a slot anyway) does not start while a call that just got its slot is still being submitted "
        f"(until Segmind accepts it, at most {SUBMIT_PRIORITY_S:g} s). The images' checks and hashing before the "
        "first call run in both media workers side by side.")
    spent, gap = gaps["v2"]
    names = bench_batch.PHASES
    encode, wait = spent[names[1]], spent[names[2]]
    check = spent[names[7]] + spent[names[8]]
    http = spent[names[3]] + spent[names[4]] + spent[names[5]]
    tail = spent[names[9]]
    lines.append(
        f"Where the gap goes (v2, concurrency 4, {ms(gap * 1000)} ms beyond the ideal, along the critical path): "
        f"PNG encodes {ms(encode * 1000)} ms ({encode / gap:.0%}), waiting for a slot or an encode turn "
        f"{ms(wait * 1000)} ms ({wait / gap:.0%}), the check (the decode into the batch buffer) {ms(check * 1000)} ms "
        f"({check / gap:.0%}), HTTP (upload, poll lag, result and video download) {ms(http * 1000)} ms "
        f"({http / gap:.0%}), and after the last call (torch.from_numpy, or a decode left to a media worker) "
        f"{ms(tail * 1000)} ms ({tail / gap:.0%}); the rest is the checks and hashing before the first call. "
        f"Per call (medians in the table above) the encode takes {ms(bench_batch.mean_phases(r4)['encode'])} ms "
        f"in the batch, against {ms(upload_ms)} ms for the whole image → upload body path alone (section 1a): "
        "the calls' encodes, checks and decodes share 2 cores with each other and with the fake server.")
    return "\n\n".join(lines)


def graph_note(cfg, row):
    return (f"Each run is one prompt through tests/comfy_host.py's run_graph (the node coroutines of one prompt in "
            "one event loop, in a worker thread, as ComfyUI's executor runs them), with the pack loaded into a "
            "stand-in ComfyUI in a temp dir and its settings as the tests set them: SEGMIND_BASE_URL, "
            "SEGMIND_API_KEY, a fresh SEGMIND_CACHE_DIR for every run (nothing is served from the cache), all else "
            f"unset, so the node's defaults: PollSchedule(), concurrency {NODE_CONCURRENCY}, auto (v2). The image "
            f"is 1024x576; the fake holds each job {cfg.graph_latency:g} s and sends {_clip_size(cfg)}. Runs "
            f"alternate (one node, then the graph) {cfg.graph_repeats} time(s) on one loaded pack"
            f"{'' if cfg.quick else ', after one warm-up run'}. The wall time is the whole prompt: the node's checks, PNG encode, HTTP, polling, "
            "decode and outputs (tensor, preview file). The graph's three POSTs went out within "
            f"{row.submit_spread * 1000:.0f} ms of each other (median). With the default schedule a "
            f"{cfg.graph_latency:g} s job is seen done at the poll {_seen_at(cfg.graph_latency):.2f} s after the "
            "submit (its first poll is the fake's 404), in both cases, so the ratio compares like with like.")


def _seen_at(latency):
    from nodes.segmind.polling import PollSchedule

    # The fake answers the first poll with 404 (the status store not caught up yet), so it never sees the end.
    return next(t for t in PollSchedule().times(latency + 10)[1:] if t >= latency)


def _clip_size(cfg):
    if cfg.batch_video_scale == 1.0:
        return "full-size 1024x576 clips (video_scale=1.0)"
    return f"clips at {cfg.batch_video_scale:g} of full size (quick mode)"


def paid_once_note(cfg):
    return ("Each case runs on its own fake server with a freshly loaded pack (one engine, as in one ComfyUI "
            "process) in the host emulation, and counts every POST the fake received. Cancel is ComfyUI's: the "
            "interrupt flag set from another thread as soon as the fake has received the POST; the POST is held "
            f"{cfg.in_flight_s:g} s by the fake (`inject('delay', ...)`) so the cancel lands while it is in flight. "
            "'Re-run after a cancel' waits until the paid video that arrived after the cancel is kept, then runs "
            "the node again (a cache hit); 'cancel, then re-queue' runs it again at once, while the first POST still "
            "waits for its answer (the re-run joins the call in flight). A case with more than one POST stops the "
            "benchmark with an error, like a duplicated request.")


def inputs_size():
    return "1024x576"


# ---- 7. identical work is paid once ------------------------------------------------------------------------

def paid_once_section(cfg, inputs):
    log("  paid once: 5 cases")
    rows = bench_graph.paid_once_rows(inputs.small, cfg.in_flight_s)  # BenchFailure on any second POST
    text = table(["case", "POSTs", "billed", "wall s", "what happened"],
                 [[r.case, f"**{r.posts}**", r.accepted, f"{r.wall:.2f}", r.note] for r in rows])
    target = (f"identical work is paid once: 1 POST in each of {len(rows)} cases (before: {PAID_ONCE_BEFORE})",
              ", ".join(str(r.posts) for r in rows), all(r.posts == 1 for r in rows))
    return text, target


# ---- 8. cache hit ------------------------------------------------------------------------------------------

def cache_section(cfg, inputs):
    log("  cache: miss, then hits")
    row = bench_batch.cache_row(inputs.model, inputs.params, cfg.latency, cfg.cache_repeats, cfg.batch_video_scale)
    rows = [["first run (miss: v2 call through the fake server)", ms(row.miss_wall * 1000), row.miss_requests, 1],
            [f"second run, same image (hit; median of {cfg.cache_repeats})", ms(row.hit_wall * 1000),
             row.hit_requests, row.client_created]]
    text = table(["run_batch of one 1024x576 image, ResultCache in a temp dir, frames out", "wall ms",
                  "requests to server", "clients created"], rows)
    target = ("cache hit makes no request", f"{row.hit_requests} requests, {ms(row.hit_wall * 1000)} ms",
              row.hit_requests == 0)
    return text, target


# ---- report ------------------------------------------------------------------------------------------------

def _targets_table(targets):
    rows = [[name, value, "—" if ok is None else mark(ok)] for name, value, ok in targets]
    return table(["Target", "Measured", "Result"], rows)


def _gc_note(parts):
    count = parts["gc"]
    before = ("imageio's PyAV plugin, which the pack used before, calls gc.collect() in close(), and close() runs "
              "twice per imopen (from __exit__ and again from __del__): two full garbage collections per clip. A "
              "full collection walks every live Python object of the host process, so that cost grew with the "
              "host, not the video (the 'before' row of 1f, with and without more live objects, when imageio is "
              "installed).")
    return (f"Full (generation 2) garbage collections inside the pack's decode, watched with gc.callbacks: {count}. "
            + before)


def render(cfg, exe, started, parts):
    mode = "quick (`--quick`)" if cfg.quick else "full"
    ffmpeg_note = "" if exe else (
        "\n\nNo ffmpeg binary was found, so the ffmpeg rows are skipped "
        "(`.venv/bin/pip install imageio-ffmpeg` adds one for the benchmark only).")
    sections = [
        "# Benchmark: the pack's own costs around a Segmind call",
        f"Mode: {mode}. Command: `.venv/bin/python benchmarks/bench.py{' --quick' if cfg.quick else ''}` "
        f"from the repository root. Run time: {time.perf_counter() - started:.0f} s. Inputs are synthetic but "
        "photo-like (benchmarks/bench_inputs.py); the clip is the pack's camera preview of the 1024x576 input "
        "(Pan Left, 14 frames, H.264 via encode_mp4). Timings are medians of "
        f"{cfg.repeats_small} runs (4032x3024 paths: {cfg.repeats_large}).",
        "## Machine\n\n" + table(["", ""], parts["machine"]),
        "## Targets\n\n" + _targets_table(parts["targets"]),
        "## 1. Per-call overhead outside the API\n\n### 1a. Image → upload body, by stage\n\n" + parts["upload_stages"]
        + "\n\n### 1b. Response → frames tensor, by stage\n\n" + parts["decode_stages"]
        + "\n\n" + _gc_note(parts)
        + "\n\n### 1c. Per call, against a 60 s call\n\n" + parts["overhead"]
        + "\n\n### 1d. Upload path against the alternatives (same inputs, same run)\n\n" + parts["upload_alt"]
        + "\n\n### 1e. Decoders against the alternatives (same clip, same run)\n\n" + parts["decode_alt"]
        + f"\n\nimageio's default plugin for these bytes: {parts['imageio_plugin']}. The alternatives end "
        "with `u8.astype(np.float32) / 255`, the usual idiom; the PyAV floor row is the least any decoder must "
        "do (benchmarks/bench_decode.py). All decoders must agree with the pack within 1/255 (checked, the run "
        "fails otherwise)." + ffmpeg_note
        + "\n\n### 1f. decode_video and video_info against the PyAV floor (same clip, same run)\n\n"
        + parts["floor"]
        + f"\n\nThe PyAV floor is demux + H.264 decode + yuv → rgb24 + one uint8 → float32 pass into a buffer "
        "sized from the header, written as plainly as possible: what any decoder of these clips must do. The "
        f"right-hand columns repeat the runs while the process holds {cfg.extra_objects:,} more GC-tracked objects "
        "(a large ComfyUI host). video_info decodes every frame without RGB conversion; the job engine runs it "
        "before caching a clip only when the clip was not decoded as it arrived (not the plain case: no frame "
        "count in its header, another size or frame count than the batch's first clip, a cancelled batch), and "
        "the node's batch path on a cached clip written by an older version. Automatic garbage "
        "collection is off while timing (as in timeit), so only collections a decoder runs itself count. "
        "decode_video does the floor's work, so a ratio below 1.00x is this shared machine's noise between the "
        "runs, not a decoder faster than the floor."
        + "\n\n### 1g. Colour matching for chained clips\n\n" + parts["color_match"]
        + "\n\nmatch_colors (nodes/media/color_match.py) for the sequence node: Lab statistics of two "
        "reference frames, then the transfer on all 14 frames, in place, in chunks of 65,536 pixels.",
        "## 2. Peak extra memory while decoding\n\n" + parts["memory"]
        + f"\n\nEach decoder runs once in a fresh process (median of {cfg.memory_repeats}), started through a "
        "small launcher because on Linux a child's ru_maxrss starts at its parent's size (the benchmark "
        f"process: {parts['memory_parent']:.0f} MiB). "
        "Baseline = ru_maxrss after the imports and after reading the MP4 bytes; peak = ru_maxrss after the "
        "decode, with the output tensor alive. 'Extra' therefore includes the output itself: 1.0x is the floor; "
        "FFmpeg's C allocations inside the process count. Resident memory at the baseline was within "
        f"{parts['memory_hidden']:.1f} MiB of the baseline high-water mark, so no import-time peak hides part of a "
        "decode. The ffmpeg row's extra is the Python side only; the ffmpeg process's own peak (ru_maxrss of the "
        "same command run alone) is in its own column. The batch row is the node's path for a batch of "
        f"{bench_decode.BATCH_CLIPS} images (here the same clip {bench_decode.BATCH_CLIPS} times): frames_of() "
        "sizes the whole batch's buffer once from the first clip's header and decodes every clip straight into its "
        "slice, which is also the job engine's check that the clip decodes. The 'before' row is the pack's decoder on imageio.",
        "## 3. Upload bytes per image\n\n" + parts["upload_bytes"]
        + "\n\nThe body is what the client POSTs: JSON with the raw base64 PNG plus the parameters.",
        "## 4. Poll lag (v2 status polls)\n\n" + parts["poll_schedules"]
        + "\n\nComputed from each schedule's poll times (nodes/segmind/polling.py, benchmarks/bench_polling.py) "
        "over 2,001 job lengths spread evenly over 55-65 s (Segmind quotes ~60 s), and over a wider 50-70 s. Lag = "
        "from the job's end to the poll that sees it; polls = status requests until then, the first included. "
        "'before' is the pack's old grid; Segmind's SDK polls every 1 s, its model page every 2 s.\n\n"
        + parts["poll_http"]
        + f"\n\nThe real SegmindClient against the fake server over HTTP, on the pack's schedule scaled x"
        f"{bench_polling.SCALE:g} (a {bench_polling.SCALE * 60:g} s stand-in job for a 60 s one; lags shown x10): "
        "the measured lag is the moment the client reports DOWNLOADING (status seen COMPLETED, result JSON read) "
        "minus the job's end, so it includes one poll's and the result fetch's round trip. The fake answers each "
        "job's first status poll with 404, counted among the polls." + (
            " Quick mode runs one short job only." if cfg.quick else ""),
        "## 5. A graph of 3 paid nodes\n\n" + parts["graph"] + "\n\n" + parts["graph_note"],
        "## 6. Batch efficiency, end to end\n\n" + parts["batch"]
        + "\n\nMedian per call (ms), every call of each run:\n\n" + parts["batch_phases"]
        + "\n\n" + parts["batch_breakdown"] + "\n\n" + parts["batch_note"],
        "## 7. Identical work is paid once\n\n" + parts["paid_once"] + "\n\n" + parts["paid_once_note"],
        "## 8. Cache hit\n\n" + parts["cache"],
    ]
    return "\n\n".join(sections) + "\n"


def run(cfg):
    started = time.perf_counter()
    exe = bench_decode.ffmpeg_exe()
    log("making inputs")
    inputs = make_inputs(cfg)
    parts = {"machine": machine_rows(exe), "imageio_plugin": bench_decode.imageio_default_plugin(inputs.video)}
    log("1. per-call overhead")
    parts["upload_stages"], upload_ms = upload_stages(cfg, inputs)
    parts["decode_stages"], decode_ms, parts["gc"] = decode_stages(cfg, inputs)
    parts["floor"], floor_targets = floor_section(cfg, inputs)
    parts["color_match"], color_target = color_match_section(cfg, inputs)
    parts["overhead"], overhead_target = overhead_table(upload_ms, decode_ms)
    uploads = upload_measurements(cfg, inputs)
    parts["upload_alt"] = upload_alternatives_table(uploads)
    parts["decode_alt"] = decode_alternatives(cfg, inputs, exe)
    log("2. memory")
    parts["memory"], memory_targets, parts["memory_hidden"] = memory_section(cfg, inputs, exe)
    parts["memory_parent"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parts["upload_bytes"] = upload_bytes_table(uploads)
    log("4. poll lag")
    parts["poll_schedules"], parts["poll_http"], poll_targets = polling_section(cfg, inputs)
    log("5. a graph of 3 paid nodes")
    parts["graph"], graph_target, graph_row = graph_section(cfg, inputs)
    parts["graph_note"] = graph_note(cfg, graph_row)
    log("6. batch efficiency")
    batch_results, server = batch_section(cfg, inputs)
    parts["batch"], parts["batch_phases"] = batch_tables(cfg, batch_results)
    parts["batch_breakdown"], gaps = batch_breakdown(batch_results)
    parts["batch_note"] = batch_note(cfg, batch_results, server, gaps, upload_ms)
    batch_target_rows = batch_targets(cfg, batch_results)
    log("7. identical work is paid once")
    parts["paid_once"], paid_once_target = paid_once_section(cfg, inputs)
    parts["paid_once_note"] = paid_once_note(cfg)
    log("8. cache hit")
    parts["cache"], cache_target = cache_section(cfg, inputs)
    decoders_target = ("all decoders give the same frames (within 1/255)", "yes", True)  # else BenchFailure
    parts["targets"] = [*poll_targets, graph_target, *batch_target_rows, paid_once_target, *floor_targets,
                        *memory_targets, overhead_target, cache_target, decoders_target, color_target]
    log("done")
    return render(cfg, exe, started, parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small repeat counts and short jobs: a CI smoke test")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    try:
        report = run(QUICK if args.quick else FULL)
    except BenchFailure as exc:
        print(f"BENCHMARK FAILED (the pack misbehaved, not just slow): {exc}", file=sys.stderr)
        return 1
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

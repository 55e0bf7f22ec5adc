"""Timing, machine description and Markdown helpers for the benchmark report."""

import datetime
import gc
import os
import platform
import statistics
import subprocess
import time


def median_ms(fn, arg, repeats, warmup=1):
    """Median wall time of fn(arg) in ms. Automatic garbage collection is off while timing, as in timeit, so a
    collection triggered by earlier code lands on no one run; explicit gc.collect() calls inside fn still run
    and count."""
    for _ in range(warmup):
        fn(arg)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn(arg)
            times.append(time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times) * 1000.0


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    return float("nan")


def _ffmpeg_version(exe):
    if not exe:
        return "not found (row skipped)"
    try:
        first = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return exe
    return first.replace("Copyright", "").split(" (c)")[0].strip()


def machine_rows(ffmpeg_exe):
    import av
    import numpy
    import PIL
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libavcodec = ".".join(map(str, av.library_versions.get("libavcodec", ())))
    return [
        ("CPU", _cpu_model()),
        ("Cores", f"{os.cpu_count()} logical ({usable} usable by this process)"),
        ("RAM", f"{_ram_gib():.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("torch", torch.__version__),
        ("numpy", numpy.__version__),
        ("Pillow", PIL.__version__),
        ("PyAV", f"{av.__version__} (libavcodec {libavcodec})"),
        ("imageio", _version_of("imageio")),
        ("ffmpeg binary", _ffmpeg_version(ffmpeg_exe)),
        ("Date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
    ]


def _version_of(module):
    try:
        return __import__(module).__version__ + " (benchmark comparison only; the pack does not use it)"
    except ImportError:
        return "not installed (its rows are skipped)"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mark(ok):
    return "✅ pass" if ok else "❌ fail"


def ms(value):
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def mib(nbytes):
    return f"{nbytes / 1024 ** 2:,.1f}"


def ratio(value):
    return f"{value:.2f}x"


def full_collections(fn, arg):
    """(count, gc ms, total ms) of one fn(arg) call: the full (generation 2) garbage collections that run inside
    it, and its whole wall time. Automatic collection is off as in median_ms, so only fn's own collections count."""
    spans, starts = [], []

    def watch(phase, info):
        if info.get("generation") != 2:
            return
        if phase == "start":
            starts.append(time.perf_counter())
        elif starts:
            spans.append(time.perf_counter() - starts.pop())

    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.callbacks.append(watch)
    try:
        started = time.perf_counter()
        fn(arg)
        total = time.perf_counter() - started
    finally:
        gc.callbacks.remove(watch)
        if enabled:
            gc.enable()
    return len(spans), sum(spans) * 1000.0, total * 1000.0

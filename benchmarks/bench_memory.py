"""Peak extra memory of one decode, measured in a fresh process per decoder.

A fresh process, because ru_maxrss is a high-water mark for the life of a process: decoding twice in one
process, or after another decoder, would hide the second peak. RSS (not tracemalloc) so that FFmpeg's own C
allocations count too.

The probe is started through a small launcher process, not straight from the benchmark: on Linux a child's
ru_maxrss starts at its parent's resident size (the mm's high-water mark is carried over at fork/exec), and the
benchmark itself holds ~1 GB of inputs, which would hide any decode under 1 GB. A grandchild of a 10 MB
launcher starts from 10 MB.

    python benchmarks/bench_memory.py --launch METHOD MP4_FILE   what measure() runs
    python benchmarks/bench_memory.py METHOD MP4_FILE            the probe itself; prints JSON
    python benchmarks/bench_memory.py --child-peak COMMAND...     peak RSS of COMMAND (the ffmpeg process)
"""

import importlib
import json
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _max_rss_bytes(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss * 1024  # kilobytes on Linux


def _current_rss_bytes():
    """Resident now (not the high-water mark), to see whether imports left a peak above it; None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _child(method, mp4_path):
    sys.path[:0] = [str(ROOT), str(HERE)]
    # imageio loads its PyAV plugin on the first decode; loading code is not what a decode costs.
    try:
        importlib.import_module("imageio.plugins.pyav")
    except ImportError:  # imageio is optional (its rows are skipped)
        pass

    import bench_decode

    functions = dict(bench_decode.memory_methods(bench_decode.ffmpeg_exe()))
    decode = functions[method]
    after_imports = _max_rss_bytes()
    data = Path(mp4_path).read_bytes()
    baseline = _max_rss_bytes()
    resident = _current_rss_bytes()
    frames = decode(data)
    peak = _max_rss_bytes()
    print(json.dumps({"after_imports": after_imports, "baseline": baseline, "resident_at_baseline": resident,
                      "peak": peak,
                      "output_bytes": frames.numel() * frames.element_size()}))


def measure(method, mp4_path):
    """The child's numbers for one decode of `mp4_path` by `method` (a name from bench_decode.memory_methods)."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--launch", method, str(mp4_path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe for {method!r} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_peak(command):
    """Peak RSS in bytes of an external command (e.g. ffmpeg), run as the child of a small launcher."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-peak", *map(str, command)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"peak of {command[0]} failed:\n{done.stderr[-2000:]}")
    return int(done.stdout.strip().splitlines()[-1])


def _child_peak(command):
    # Output to /dev/null: a pipe's buffer is kernel memory, not the command's, so this changes nothing.
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    print(_max_rss_bytes(resource.RUSAGE_CHILDREN))


def _launch(method, mp4_path):
    """Run the probe as a child of this small process and pass its output and status through."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), method, mp4_path], check=False)
    sys.exit(done.returncode)


if __name__ == "__main__":
    if sys.argv[1] == "--launch":
        _launch(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--child-peak":
        _child_peak(sys.argv[2:])
    else:
        _child(sys.argv[1], sys.argv[2])

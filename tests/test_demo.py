"""The main job from the command line (`bash .ci/run demo`), through the node code, offline and against the
fake server."""

import os
import subprocess
import sys
from pathlib import Path

from fake_segmind import TEST_KEY, FakeSegmind

ROOT = Path(__file__).resolve().parents[1]


def demo(tmp_path, *args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SEGMIND_")}
    environ.update(SEGMIND_CACHE_DIR=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"), **env)
    return subprocess.run([sys.executable, "-m", "nodes.demo", "", str(tmp_path / "out"), *args], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=120)


def test_offline_demo_renders_the_local_preview(tmp_path):
    done = demo(tmp_path, "--motion", "Zoom In")
    assert done.returncode == 0, done.stderr
    assert "LOCAL CAMERA PREVIEW" in done.stderr and "14 frames" in done.stdout
    assert (tmp_path / "out" / "video.mp4").stat().st_size > 0 and len(list((tmp_path / "out" / "frames").iterdir())) == 14


def test_demo_with_a_key_calls_segmind_once_and_then_uses_the_cache(tmp_path):
    with FakeSegmind() as fake:
        for _ in range(2):
            done = demo(tmp_path, SEGMIND_BASE_URL=fake.base_url, SEGMIND_API_KEY=TEST_KEY)
            assert done.returncode == 0, done.stderr
        assert len(fake.posts()) == 1 and "from cache, $0" in done.stdout

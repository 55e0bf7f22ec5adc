"""Shared fixtures: the fake Segmind server, clients pointed at it, and a log capture that fails any test
in which the test API key, or any 12-character run of it, shows up in a log record."""

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from comfy_host import Host, load_pack  # noqa: E402
from fake_segmind import TEST_KEY, FakeSegmind  # noqa: E402
from nodes.segmind.client import SegmindClient  # noqa: E402

FAST = dict(poll_interval=0.05, backoff=0.05, tick_s=0.05, timeout_s=30.0, v1_read_timeout=10.0,
            connect_timeout=2.0, max_rate_limit_wait=3.0, poll_read_timeout=5.0)


def key_runs(secret, length=12):
    """Every run of `length` consecutive characters of a secret: none of them may be shown anywhere."""
    return {secret[i:i + length] for i in range(len(secret) - length + 1)} if len(secret) >= length else {secret}


def leaked_runs(text, *secrets, length=12):
    """The runs of the secrets that `text` holds (an empty set when it holds none)."""
    return {run for secret in secrets for run in key_runs(secret, length) if run in text}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts = []

    def emit(self, record):
        self.texts.append(self.format(record))


@pytest.fixture(autouse=True)
def no_key_in_logs():
    """Every test runs with DEBUG logging captured; the key, or a 12-character run of it, must be in none of it."""
    capture = _Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    leaked = [t for t in capture.texts if leaked_runs(t, TEST_KEY)]
    assert not leaked, f"API key found in log records: {leaked[:3]}"


@pytest.fixture
def fake():
    with FakeSegmind() as server:
        yield server


@pytest.fixture
def make_client(fake):
    def make(api_key=TEST_KEY, **overrides):
        options = dict(FAST, base_url=fake.base_url)
        options.update(overrides)
        return SegmindClient(api_key, **options)
    return make


@pytest.fixture
def host(tmp_path, monkeypatch):
    """ComfyUI's modules stood in for, with the pack's environment variables cleared."""
    monkeypatch.setenv("SEGMIND_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("SEGMIND_API_KEY", "SEGMIND_API_MODE", "SEGMIND_BASE_URL", "SEGMIND_API_KEY_FILE",
                 "SEGMIND_CONCURRENCY", "SEGMIND_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    stand_in = Host(tmp_path).install()
    yield stand_in
    stand_in.uninstall()


@pytest.fixture
def pack(host):
    """The pack loaded the way ComfyUI loads it."""
    return load_pack()


@pytest.fixture
def server(monkeypatch):
    """A fake Segmind that the node reaches through its environment, with the test key set."""
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        yield fake


def textured_image(width=96, height=64, seed=0):
    """A smooth random RGB image in 0..1, [H,W,3] float32: texture that motion can be measured on."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    big = np.kron(small, np.ones((8, 8, 1), dtype=np.float32))[:height, :width]
    return np.ascontiguousarray(big)


DEFAULT_PARAMS = {"motion": "Pan Left", "motion_speed": 1.0, "fps": 7, "motion_bucket_id": 127,
                  "cond_aug": 0.02, "seed": 985445, "decoding_t": 1, "maintain_aspect_ratio": True}

"""Twenty nodes' worth of calls at once through the client, against a rate-limited fake Segmind: no deadlock,
no lost or duplicated request, every result matched to its own input, memory bounded."""

import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind
from nodes.media.image_codec import image_to_base64

CALLS = 20


def test_twenty_concurrent_calls_under_a_rate_limit(make_client):
    images = [image_to_base64(textured_image(96, 64, seed=100 + i)) for i in range(CALLS)]
    with FakeSegmind(rate_limit=5, rate_window=1.0, retry_after=1, latency=0.2) as fake:
        for mode in ("v1", "v2"):
            fake.requests.clear()
            client = make_client(base_url=fake.base_url, mode=mode, rate_limit_retries=10)
            tracemalloc.start()
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=CALLS) as pool:
                results = list(pool.map(lambda b64: client.generate(b64, DEFAULT_PARAMS), images))
            took = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

            assert took < 30, "no deadlock: twenty rate-limited calls finish in a few seconds"
            for image, result in zip(images, results):
                assert result.video == fake.expected_video(image, DEFAULT_PARAMS), "result matched to its input"
            accepted = [r.json["input_image"] for r in fake.accepted_posts()]
            assert sorted(accepted) == sorted(images), "each input accepted exactly once: none lost, none twice"
            assert any(r.method == "POST" and not r.accepted for r in fake.recorded()), "the rate limit was hit"
            assert peak < 64 * 1024 * 1024, f"peak traced memory {peak / 1e6:.0f} MB"

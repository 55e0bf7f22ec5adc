"""Input and settings hardening, through the node (host emulation) against the fake server: what could be
rejected locally is, with an error naming the input or setting; identical work is one cache key; what was
paid for is kept, and a killed write leaves nothing behind for long."""

import os
import time

import pytest

from comfy_host import run_node, tensor_of
from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind
from nodes.media.image_codec import image_to_base64


def test_minus_zero_and_zero_are_the_same_request(pack, server):
    image = tensor_of(textured_image(seed=70))
    run_node(pack, image, cond_aug=0.0)
    out = run_node(pack, image, cond_aug=-0.0)
    assert len(server.posts()) == 1 and "from cache, $0" in out["ui"]["segmind_status"][0]


@pytest.mark.parametrize("name,value,words", [
    ("SEGMIND_TIMEOUT", "inf", "from 10 to 3600 seconds"),
    ("SEGMIND_TIMEOUT", "1e999", "from 10 to 3600 seconds"),
    ("SEGMIND_TIMEOUT", "0", "from 10 to 3600 seconds"),
    ("SEGMIND_TIMEOUT", "-5", "from 10 to 3600 seconds"),
    ("SEGMIND_TIMEOUT", "abc", "from 10 to 3600 seconds"),
    ("SEGMIND_TIMEOUT", "nan", "from 10 to 3600 seconds"),
    ("SEGMIND_CONCURRENCY", "0", "whole number from 1 to 8"),
    ("SEGMIND_CONCURRENCY", "2.5", "whole number from 1 to 8"),
    ("SEGMIND_CONCURRENCY", "nine", "whole number from 1 to 8"),
    ("SEGMIND_API_MODE", "v3", "one of auto, v2, v1"),
    ("SEGMIND_BASE_URL", "ftp://api.segmind.com", "http(s) address"),
    ("SEGMIND_BASE_URL", "http://[::1", "http(s) address"),
    ("SEGMIND_MAX_CALLS_PER_RUN", "-1", "whole number from 0 to 10000"),
    ("SEGMIND_DAILY_BUDGET", "lots", "number from 0 to 100000"),
])
def test_a_bad_setting_is_a_clear_error_before_anything_is_sent(pack, server, monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(Exception) as caught:
        run_node(pack, tensor_of(textured_image(seed=71)))
    text = str(caught.value)
    assert name in text and words in text and "unset it" in text
    assert server.recorded() == []


def test_a_setting_never_quotes_a_long_value(pack, server, monkeypatch):
    """A key pasted into the wrong variable must not end up in an error message."""
    monkeypatch.setenv("SEGMIND_TIMEOUT", "SG_0123456789abcdefghij")
    with pytest.raises(Exception) as caught:
        run_node(pack, tensor_of(textured_image(seed=72)))
    assert "0123456789" not in str(caught.value) and "SEGMIND_TIMEOUT" in str(caught.value)


def test_stale_temporary_files_of_a_killed_write_are_cleaned_up(pack, server, host):
    folder = host.tmp_path / "cache" / "ab"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-old.mp4", folder / ".tmp-now.mp4"
    stale.write_bytes(b"half a video")
    fresh.write_bytes(b"a write in progress")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(stale, (two_hours_ago, two_hours_ago))
    run_node(pack, tensor_of(textured_image(seed=73)))
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("mode,output_mode,response_format", [("v2", "base64", "binary"), ("v1", "url", "base64")])
def test_inline_base64_broken_into_mime_lines_is_accepted(make_client, mode, output_mode, response_format):
    with FakeSegmind(output_mode=output_mode, base64_wrap=76) as fake:
        image_b64 = image_to_base64(textured_image(seed=74))
        result = make_client(base_url=fake.base_url, mode=mode, response_format=response_format).generate(
            image_b64, DEFAULT_PARAMS)
        assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)
        assert len(fake.posts()) == 1

"""The client against the fake server over real HTTP: v1 and v2, both response forms, metadata, progress."""

import time

import numpy as np
import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind, TEST_KEY
from nodes.common import errors as E
from nodes.media.image_codec import image_to_base64
from nodes.media.video_codec import decode_video


@pytest.fixture
def image_b64():
    return image_to_base64(textured_image())


def assert_same_video(result, fake, image_b64, params):
    expected = fake.expected_video(image_b64, params)
    assert result.video == expected
    got, want = decode_video(result.video), decode_video(expected)
    assert got.frames.shape == want.frames.shape and got.frames.shape[0] == 14
    np.testing.assert_array_equal(got.frames, want.frames)
    assert got.fps == pytest.approx(params["fps"])


@pytest.mark.parametrize("response_format", ["binary", "base64"])
def test_v1_returns_exactly_the_served_video(fake, make_client, image_b64, response_format):
    params = dict(DEFAULT_PARAMS, fps=12)
    result = make_client(mode="v1", response_format=response_format).generate(image_b64, params)
    assert_same_video(result, fake, image_b64, params)
    assert result.api_version == "v1"
    assert result.request_id and result.seed == 985445
    assert result.remaining_credits == pytest.approx(100 - 0.089, abs=1e-3)
    assert result.cost == pytest.approx(0.089)
    [post] = fake.posts()
    assert post.path == "/v1/motionctrl-svd" and post.json["base64"] is (response_format == "base64")


def test_body_has_the_wire_types_segmind_expects(fake, make_client, image_b64):
    params = dict(DEFAULT_PARAMS, fps=9.0, motion_speed=2, seed=np.int64(7))
    make_client(mode="v1").generate(image_b64, params)
    body = fake.posts()[0].json
    assert body["input_image"] == image_b64 and not body["input_image"].startswith("data:")
    for name in ("fps", "motion_bucket_id", "seed", "decoding_t"):
        assert type(body[name]) is int, name
    for name in ("cond_aug", "motion_speed"):
        assert type(body[name]) is float, name
    assert body["maintain_aspect_ratio"] is True
    assert fake.posts()[0].headers["x-api-key"] == TEST_KEY


@pytest.mark.parametrize("output_mode", ["redirect", "storage", "url", "base64"])
def test_v2_submit_poll_fetch_returns_the_served_video(make_client, image_b64, output_mode):
    with FakeSegmind(output_mode=output_mode, latency=0.3) as fake:
        states = []
        submitted = []
        client = make_client(mode="v2", base_url=fake.base_url)
        result = client.generate(image_b64, DEFAULT_PARAMS, on_state=states.append, on_submitted=submitted.append)
        assert_same_video(result, fake, image_b64, DEFAULT_PARAMS)
        assert result.api_version == "v2" and result.request_id == submitted[0].request_id
        # Segmind's v2 accounting is in the result's metrics: the real charge and balance, not estimates.
        assert result.cost == pytest.approx(0.089) and result.accounting.cost_reported
        assert result.remaining_credits == pytest.approx(fake.credits, abs=1e-3)
        assert result.accounting.generation_time == pytest.approx(1.5)
        assert {"QUEUED", "PROCESSING"} <= set(states)
        assert len(fake.accepted_posts()) == 1
        # Output URLs lead to other origins (storage, a CDN): the key must not travel there, even by redirect.
        assert fake.keys_seen_by_storage() == []
        assert all("x-api-key" not in r.headers for r in fake.recorded("output"))
        if output_mode in ("redirect", "storage"):
            assert len(fake.storage_requests) == 1


def test_auto_mode_falls_back_to_v1_when_v2_is_missing(make_client, image_b64):
    with FakeSegmind(v2_enabled=False) as fake:
        result = make_client(base_url=fake.base_url).generate(image_b64, DEFAULT_PARAMS)
        assert result.api_version == "v1"
        assert [r.kind for r in fake.posts()] == ["v2", "v1"]
        assert len(fake.accepted_posts()) == 1


def test_auto_mode_prefers_v2(fake, make_client, image_b64):
    result = make_client().generate(image_b64, DEFAULT_PARAMS)
    assert result.api_version == "v2"
    assert [r.kind for r in fake.posts()] == ["v2"]


def test_resume_collects_a_job_without_a_new_post(fake, make_client, image_b64):
    submitted = []

    def cancel_after_submit():
        return bool(submitted)

    fake.latency = 0.5
    client = make_client(mode="v2")
    with pytest.raises(Exception) as caught:
        client.generate(image_b64, DEFAULT_PARAMS, on_submitted=submitted.append, should_stop=cancel_after_submit)
    assert type(caught.value).__name__ == "CancelledError"
    result = make_client(mode="v2").resume(submitted[0])
    assert_same_video(result, fake, image_b64, DEFAULT_PARAMS)
    assert len(fake.posts()) == 1


def test_a_stop_during_the_v2_submit_still_records_the_accepted_job(fake, make_client, image_b64):
    """The POST is never abandoned: its answer (a billed job) is read and recorded, then nothing more is done."""
    fake.inject("delay", on="v2", seconds=1.0)
    submitted = []
    started = time.monotonic()
    with pytest.raises(E.CancelledError):
        make_client(mode="v2").generate(image_b64, DEFAULT_PARAMS, on_submitted=submitted.append,
                                        should_stop=lambda: time.monotonic() - started > 0.3)
    assert submitted and submitted[0].request_id in fake.jobs
    assert not fake.recorded("status")  # stopped before polling
    result = make_client(mode="v2").resume(submitted[0])
    assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)
    assert len(fake.posts()) == 1


def test_a_stop_during_v1_still_returns_the_paid_video(fake, make_client, image_b64):
    fake.inject("delay", on="v1", seconds=1.0)
    started = time.monotonic()
    result = make_client(mode="v1").generate(image_b64, DEFAULT_PARAMS,
                                             should_stop=lambda: time.monotonic() - started > 0.3)
    assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)
    assert len(fake.posts()) == 1

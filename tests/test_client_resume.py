"""v2 jobs over time: resume after a timeout, Segmind's one-hour retention, 422 on the result, the shared
429 pause, and accounting read from Segmind's own fields (or said to be an estimate)."""

import threading
import time

import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind
from nodes.common import errors as E
from nodes.media.image_codec import image_to_base64
from nodes.segmind.results import SubmittedJob


@pytest.fixture(scope="module")
def image_b64():
    return image_to_base64(textured_image())


def test_a_job_that_outlived_segmind_timeout_is_collected_on_resume(make_client, image_b64):
    """SEGMIND_TIMEOUT ends the first wait; running again must collect the job, not fail at once."""
    with FakeSegmind(latency=1.5) as fake:
        submitted = []
        with pytest.raises(E.DeadlineExceededError) as caught:
            make_client(mode="v2", base_url=fake.base_url, timeout_s=0.5).generate(
                image_b64, DEFAULT_PARAMS, on_submitted=submitted.append)
        assert "within an hour" in str(caught.value) and caught.value.may_have_been_billed
        polls_before = len(fake.recorded("status"))
        result = make_client(mode="v2", base_url=fake.base_url, timeout_s=5).resume(submitted[0])
        assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)
        assert len(fake.recorded("status")) > polls_before and len(fake.posts()) == 1


def test_a_resumed_job_is_asked_at_once(make_client, image_b64):
    with FakeSegmind(latency=0.0, early_404=0) as fake:
        job = _submit(make_client(mode="v2", base_url=fake.base_url), image_b64)
        time.sleep(0.3)
        slow_first_poll = make_client(mode="v2", base_url=fake.base_url, poll_interval=5.0)
        started = time.monotonic()
        slow_first_poll.resume(job)
        assert time.monotonic() - started < 2.0  # not first_s (5 s) after the resume


def test_a_404_near_the_end_of_segminds_hour_means_expired(make_client):
    with FakeSegmind() as fake:
        old = SubmittedJob("gone", f"{fake.base_url}/v2/requests/gone/status", f"{fake.base_url}/v2/requests/gone",
                           time.time() - 58 * 60)
        started = time.monotonic()
        with pytest.raises(E.JobExpiredError) as caught:
            make_client(mode="v2", base_url=fake.base_url).resume(old)
        assert "kept for 1 hour" in str(caught.value) and time.monotonic() - started < 2
        assert not fake.posts()


def test_a_422_on_the_result_url_is_a_finished_unbilled_failure(make_client, image_b64):
    with FakeSegmind() as fake:
        fake.inject("status", on="result", code=422, error="NSFW content detected")
        with pytest.raises(E.JobFailedError) as caught:
            make_client(mode="v2", base_url=fake.base_url).generate(image_b64, DEFAULT_PARAMS)
        assert "not billed" in str(caught.value) and "NSFW content detected" in str(caught.value)
        assert not caught.value.may_have_been_billed


def test_a_429_pauses_every_client_of_that_origin_until_its_reset_time(make_client, image_b64):
    with FakeSegmind(retry_after=2, early_404=0) as fake:
        fake.inject("rate_limit", on="v1", times=1, headers="reset-at")
        first = make_client(mode="v1", base_url=fake.base_url, max_rate_limit_wait=10)
        second = make_client(mode="v1", base_url=fake.base_url, max_rate_limit_wait=10)
        threading.Thread(target=first.generate, args=(image_b64, DEFAULT_PARAMS), daemon=True).start()
        time.sleep(0.3)  # the first client has had its 429 by now
        started = time.monotonic()
        second.generate(image_b64, dict(DEFAULT_PARAMS, seed=1))
        assert time.monotonic() - started > 1.0  # held by the first client's 429, without a 429 of its own
        assert sum(1 for r in fake.posts() if r.json["seed"] == 1) == 1


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_without_a_reported_cost_the_result_says_so(make_client, image_b64, mode):
    with FakeSegmind(report_cost=False) as fake:
        result = make_client(mode=mode, base_url=fake.base_url).generate(image_b64, DEFAULT_PARAMS)
        assert result.cost is None and not result.accounting.cost_reported
        assert result.accounting.cost_or_estimate() == pytest.approx(0.089)
        assert result.remaining_credits is not None  # the balance is still Segmind's own figure


def _submit(client, image_b64):
    submitted = []
    with pytest.raises(E.CancelledError):
        client.generate(image_b64, DEFAULT_PARAMS, on_submitted=submitted.append, should_stop=lambda: bool(submitted))
    return submitted[0]

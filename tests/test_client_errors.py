"""Every error in the contract becomes a clear exception; nothing billable is ever sent twice; no key leaks."""

import socket
import time

import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind, TEST_KEY
from nodes import errors as E
from nodes.config import find_api_key
from nodes.image_codec import image_to_base64
from nodes.segmind_client import SegmindClient


@pytest.fixture(scope="module")
def image_b64():
    return image_to_base64(textured_image())


def run(client, image_b64, **kwargs):
    with pytest.raises(E.SegmindError) as caught:
        client.generate(image_b64, DEFAULT_PARAMS, **kwargs)
    assert TEST_KEY not in str(caught.value)
    return caught.value


STATUS_CASES = [
    (400, E.BadRequestError, "invalid"),
    (401, E.AuthenticationError, "SEGMIND_API_KEY"),
    (403, E.PermissionDeniedError, "refused access"),
    (404, E.EndpointNotFoundError, "SEGMIND_BASE_URL"),
    (406, E.InsufficientCreditsError, "credits"),
    (500, E.SegmindServerError, "may already have accepted"),
    (502, E.SegmindServerError, "temporarily unavailable"),
    (504, E.SegmindServerError, "timed out"),
]


@pytest.mark.parametrize("code,kind,hint", STATUS_CASES)
def test_v1_status_errors_are_explained_and_never_resent(fake, make_client, image_b64, code, kind, hint):
    fake.inject("status", on="v1", times=5, code=code, error=f"segmind says {code}")
    error = run(make_client(mode="v1"), image_b64)
    assert type(error) is kind
    assert hint in str(error)
    assert f'Segmind said: "segmind says {code}"' in str(error) and f"HTTP {code}" in str(error)
    assert len(fake.posts()) == 1


def test_400_without_an_error_body_still_explains(fake, make_client, image_b64):
    fake.inject("status", on="v1", code=400, body=b"", content_type="text/plain")
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.BadRequestError) and "HTTP 400" in str(error)


def test_v1_5xx_says_it_may_have_been_billed(fake, make_client, image_b64):
    fake.inject("status", on="v1", code=500)
    error = run(make_client(mode="v1"), image_b64)
    assert error.may_have_been_billed


def test_v2_submit_5xx_is_not_resent(fake, make_client, image_b64):
    fake.inject("status", on="v2", times=3, code=502)
    error = run(make_client(mode="auto"), image_b64)
    assert isinstance(error, E.SegmindServerError)
    assert len(fake.posts()) == 1


def test_real_validation_error_from_the_server_is_quoted(fake, make_client, image_b64):
    error = run(make_client(mode="v1"), "aGVsbG8=")  # valid base64, not an image
    assert isinstance(error, E.BadRequestError)
    assert "not a valid base64-encoded image" in str(error)


def test_wrong_key_is_401_with_where_to_put_it(make_client, image_b64):
    with FakeSegmind(api_key="SG_the_right_one", echo_key_in_errors=True) as fake:
        error = run(make_client(base_url=fake.base_url), image_b64)
        assert isinstance(error, E.AuthenticationError)
        assert "SEGMIND_API_KEY" in str(error)
        assert "[redacted API key]" in str(error)  # the server echoed our key; it was scrubbed


def test_no_credits_is_406(make_client, image_b64):
    with FakeSegmind(credits=0.01) as fake:
        error = run(make_client(base_url=fake.base_url), image_b64)
        assert isinstance(error, E.InsufficientCreditsError) and "Top up" in str(error)


def test_v2_failed_job_is_422_and_not_billed(fake, make_client, image_b64):
    fake.inject("fail_job", on="v2", error="CUDA out of memory")
    error = run(make_client(mode="v2"), image_b64)
    assert isinstance(error, E.JobFailedError)
    assert 'Segmind said: "CUDA out of memory"' in str(error) and "not billed" in str(error)
    assert error.request_id


def test_429_with_retry_after_is_retried_then_succeeds(fake, make_client, image_b64):
    fake.retry_after = 1
    fake.inject("rate_limit", on="v1", times=2, headers="retry-after")
    started = time.monotonic()
    result = make_client(mode="v1").generate(image_b64, DEFAULT_PARAMS)
    assert result.video
    assert 2.0 <= time.monotonic() - started < 6.0  # it honoured the 1 s Retry-After twice
    assert len(fake.posts()) == 3 and len(fake.accepted_posts()) == 1


def test_429_past_the_retry_budget_gives_up_clearly(fake, make_client, image_b64):
    fake.inject("rate_limit", on="v1", times=10, headers="none")
    error = run(make_client(mode="v1", rate_limit_retries=2), image_b64)
    assert isinstance(error, E.RateLimitedError) and "rate limit" in str(error)
    assert len(fake.posts()) == 3 and not fake.accepted_posts()


def test_html_error_page_is_described_not_dumped(fake, make_client, image_b64):
    fake.inject("html", on="v1", code=502)
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.SegmindServerError) and "<html" not in str(error)


def test_html_page_with_200_is_not_taken_for_a_video(fake, make_client, image_b64):
    fake.inject("html", on="v1", code=200)
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "502 Bad Gateway" in str(error)
    assert "web page" in str(error)


def test_non_json_submit_answer(fake, make_client, image_b64):
    fake.inject("status", on="v2", code=200, body=b"OK", content_type="text/plain")
    error = run(make_client(mode="v2"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "not JSON" in str(error)


def test_unknown_json_shape(fake, make_client, image_b64):
    fake.inject("unknown_json", on="result")
    error = run(make_client(mode="v2"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "something" in str(error)


def test_body_that_is_not_a_video(fake, make_client, image_b64):
    fake.inject("not_video", on="v1")
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "not a video" in str(error)
    assert len(fake.posts()) == 1


def test_truncated_body_is_reported_and_not_resent(fake, make_client, image_b64):
    fake.inject("truncate", on="v1")
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.TruncatedResponseError)
    assert len(fake.posts()) == 1


def test_dropped_connection_after_sending_is_sent_exactly_once(fake, make_client, image_b64):
    fake.inject("drop_after", on="v1", times=5)
    error = run(make_client(mode="v1"), image_b64)
    assert isinstance(error, E.OutcomeUnknownError)
    assert "not re-sent" in str(error) and error.may_have_been_billed
    assert len(fake.posts()) == 1


def test_connection_refused_is_retried_then_reported(make_client, image_b64):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on that port now: every attempt is refused before a byte is sent.
    client = make_client(base_url=f"http://127.0.0.1:{port}", connect_retries=2)
    error = run(client, image_b64)
    assert isinstance(error, E.ConnectionFailedError)
    assert "Nothing was sent" in str(error) and "HTTPS_PROXY" in str(error)


def test_output_url_that_404s(fake, make_client, image_b64):
    fake.inject("status", on="output", code=404, error="gone")
    error = run(make_client(mode="v2"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "could not be downloaded" in str(error)
    assert len(fake.posts()) == 1


def test_polling_survives_transient_failures(fake, make_client, image_b64):
    fake.latency = 0.3
    fake.inject("status", on="status", times=2, code=502)
    fake.inject("drop_after", on="result", times=1)
    result = make_client(mode="v2").generate(image_b64, DEFAULT_PARAMS)
    assert result.video and len(fake.posts()) == 1


def test_invalid_parameters_are_rejected_before_any_request(fake, make_client, image_b64):
    client = make_client()
    for bad in ({"fps": 40}, {"fps": 7.5}, {"motion": "Sideways"}, {"cond_aug": float("nan")},
                {"motion_bucket_id": True}, {"maintain_aspect_ratio": "yes"}, {"seed": -5}, {"colour": 1}):
        with pytest.raises(E.InvalidParameterError) as caught:
            client.generate(image_b64, dict(DEFAULT_PARAMS, **bad))
        name = next(iter(bad))
        assert name in str(caught.value) and "Nothing was sent" in str(caught.value)
    assert "from 5 to 30" in str(pytest.raises(E.InvalidParameterError, client.generate, image_b64,
                                               dict(DEFAULT_PARAMS, fps=4)).value)
    assert fake.recorded() == []


def test_missing_key_fails_before_any_network_call(fake):
    with pytest.raises(E.MissingApiKeyError) as caught:
        SegmindClient.from_env(environ={"SEGMIND_BASE_URL": fake.base_url})
    assert "SEGMIND_API_KEY" in str(caught.value)
    assert fake.recorded() == []


@pytest.mark.parametrize("raw", ['"SG_abc123"', "  SG_abc123\n", "'SG_abc123'", '"SG_abc123"\r\n'])
def test_key_quotes_and_whitespace_are_stripped(raw):
    assert find_api_key({"SEGMIND_API_KEY": raw}) == "SG_abc123"


def test_cancel_stops_waiting_within_a_second(fake, make_client, image_b64):
    fake.inject("hang", on="v1", seconds=30)
    started = time.monotonic()
    error = run(make_client(mode="v1", tick_s=0.25), image_b64,
                should_cancel=lambda: time.monotonic() - started > 0.5)
    assert isinstance(error, E.CancelledError)
    assert time.monotonic() - started < 1.6


def test_a_server_that_never_answers_hits_the_time_limit(fake, make_client, image_b64):
    fake.inject("hang", on="v1", seconds=30)
    started = time.monotonic()
    error = run(make_client(mode="v1", v1_read_timeout=1.0), image_b64)
    assert isinstance(error, E.OutcomeUnknownError)
    assert time.monotonic() - started < 5
    assert len(fake.posts()) == 1

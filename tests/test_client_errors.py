"""Every error in the contract becomes a clear exception; nothing billable is ever sent twice; no key leaks."""

import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import FakeSegmind, TEST_KEY
from nodes.common import errors as E
from nodes.common.api_key import find_api_key
from nodes.media.image_codec import image_to_base64
from nodes.segmind.client import SegmindClient


@pytest.fixture(scope="module")
def image_b64():
    return image_to_base64(textured_image())


def run(client, image_b64, **kwargs):
    with pytest.raises(E.SegmindError) as caught:
        client.generate(image_b64, DEFAULT_PARAMS, **kwargs)
    assert TEST_KEY not in str(caught.value)
    return caught.value




def test_v1_5xx_says_it_may_have_been_billed(fake, make_client, image_b64):
    fake.inject("status", on="v1", code=500)
    error = run(make_client(mode="v1"), image_b64)
    assert error.may_have_been_billed


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


def test_non_json_submit_answer(fake, make_client, image_b64):
    fake.inject("status", on="v2", code=200, body=b"OK", content_type="text/plain")
    error = run(make_client(mode="v2"), image_b64)
    assert isinstance(error, E.UnexpectedResponseError) and "not JSON" in str(error)


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

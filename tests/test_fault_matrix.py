"""The fault matrix: every way Segmind (or the network) can fail, against the fake server over real HTTP.

For each fault: which exception and message, how many POSTs reached the server (never a second billed one),
and how long it took (bounded). docs/fault-matrix.md is the readable copy of this table; a test below keeps
the two in step. A second table checks that cancel works in every state the client can be waiting in.
"""

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import DEFAULT_PARAMS, textured_image
from fake_segmind import TEST_KEY, FakeSegmind, Job
from nodes.common import errors as E
from nodes.media.image_codec import image_to_base64

DOC = Path(__file__).resolve().parents[1] / "docs" / "fault-matrix.md"


@dataclass
class Case:
    id: str
    fault: str = None
    on: str = "v1"
    options: dict = field(default_factory=dict)
    mode: str = "v1"
    error: type = None  # None: the call succeeds
    hint: str = ""
    posts: int = 1  # POSTs that reached the server
    accepted: int = None  # POSTs the server billed, when it differs from "all successful ones"
    max_s: float = 5.0
    min_s: float = 0.0
    client: dict = field(default_factory=dict)
    server: dict = field(default_factory=dict)  # fault options: how many times
    fake: dict = field(default_factory=dict)  # FakeSegmind's own behaviour for this case


CASES = [
    Case("400 with error", "status", options=dict(code=400, error="fps must be an integer"),
         error=E.BadRequestError, hint='Segmind said: "fps must be an integer"'),
    Case("400 without body", "status", options=dict(code=400, body=b"", content_type="text/plain"),
         error=E.BadRequestError, hint="HTTP 400"),
    Case("401", "status", options=dict(code=401, error="Invalid API key"), error=E.AuthenticationError,
         hint="SEGMIND_API_KEY"),
    Case("403", "status", options=dict(code=403), error=E.PermissionDeniedError, hint="plan"),
    Case("404 on v1", "status", options=dict(code=404), error=E.EndpointNotFoundError, hint="SEGMIND_BASE_URL"),
    Case("404 on v2 submit (auto falls back to v1)", "status", on="v2", options=dict(code=404), mode="auto",
         posts=2),
    Case("406", "status", options=dict(code=406, error="Insufficient credits"),
         error=E.InsufficientCreditsError, hint="Top up"),
    Case("422 FAILED on v2", "fail_job", on="v2", options=dict(error="CUDA out of memory"), mode="v2",
         error=E.JobFailedError, hint="not billed"),
    Case("429 with Retry-After (from a proxy)", "rate_limit", options=dict(headers="retry-after"), posts=2,
         min_s=0.9),
    Case("429 with x-rate-limit-reset-at-utc", "rate_limit", options=dict(headers="reset-at"), posts=2),
    Case("429 with neither header", "rate_limit", options=dict(headers="none"), posts=2),
    Case("429 past the retry budget", "rate_limit", options=dict(headers="none"), error=E.RateLimitedError,
         hint="rate limit", posts=3, client=dict(rate_limit_retries=2), server=dict(times=10)),
    Case("500", "status", options=dict(code=500), error=E.SegmindServerError, hint="may already have accepted"),
    Case("502", "status", options=dict(code=502), error=E.SegmindServerError, hint="temporarily unavailable"),
    Case("504", "status", options=dict(code=504), error=E.SegmindServerError, hint="timed out"),
    Case("500 on v2 submit", "status", on="v2", options=dict(code=500), mode="v2", error=E.SegmindServerError,
         hint="Nothing was re-sent"),
    Case("connection refused", "refused", error=E.ConnectionFailedError, hint="Nothing was sent", posts=0),
    Case("connection dropped before the body was sent", "drop_before", error=E.OutcomeUnknownError,
         hint="not re-sent"),
    Case("connection dropped after the body was sent", "drop_after", error=E.OutcomeUnknownError,
         hint="not re-sent"),
    Case("server never answers", "hang", options=dict(seconds=30), error=E.OutcomeUnknownError,
         hint="no answer", client=dict(v1_read_timeout=1.0)),
    Case("answer trickles slower than the timeout", "trickle", options=dict(interval=0.5, size=100000),
         error=E.OutcomeUnknownError, hint="time limit", client=dict(v1_read_timeout=1.0), max_s=9.0),
    Case("truncated MP4", "truncate", error=E.TruncatedResponseError, hint="incomplete"),
    Case("body is not a video", "not_video", error=E.UnexpectedResponseError, hint="not a video"),
    Case("HTML error page", "html", options=dict(code=502), error=E.SegmindServerError, hint="HTTP 502"),
    Case("HTML page with 200", "html", options=dict(code=200), error=E.UnexpectedResponseError,
         hint="web page"),
    Case("JSON of unknown shape", "unknown_json", on="result", mode="v2", error=E.UnexpectedResponseError,
         hint="something"),
    Case("v2 output URL 404s", "status", on="output", options=dict(code=404), mode="v2",
         error=E.UnexpectedResponseError, hint="could not be downloaded", fake=dict(output_mode="url")),
    Case("v2 status polls fail twice, then recover", "status", on="status", options=dict(code=502), mode="v2",
         server=dict(times=2)),
    Case("answer larger than the size cap (streamed)", "huge", options=dict(size=64 * 1024 * 1024),
         error=E.ResponseTooLargeError, hint="safety limit", client=dict(max_response_bytes=8 * 1024 * 1024)),
    Case("declared larger than the size cap", "huge", options=dict(size=64 * 1024 * 1024, declare_length=True),
         error=E.ResponseTooLargeError, hint="safety limit", client=dict(max_response_bytes=8 * 1024 * 1024)),
    # ---- what a CDN, a load balancer and storage redirects do (issue 9) ----
    Case("gzip on every v2 answer (submit, status, result, MP4)", mode="v2", fake=dict(compression="gzip")),
    Case("gzip v1 MP4", fake=dict(compression="gzip")),
    Case("deflate (zlib) answers", mode="v2", fake=dict(compression="deflate")),
    Case("raw deflate answers (no zlib header)", mode="v2", fake=dict(compression="deflate-raw")),
    Case("gzip although the client did not ask", mode="v2", fake=dict(compression="forced-gzip")),
    Case("gzip error body", "status", options=dict(code=400, error="motion must be one of ..."),
         error=E.BadRequestError, hint='Segmind said: "motion must be one of ..."', fake=dict(compression="gzip")),
    Case("brotli although not offered", "encoding", options=dict(encoding="br"), error=E.UnexpectedResponseError,
         hint="cannot read"),
    Case("small gzip that inflates above the size cap", "huge_gzip", options=dict(size=64 * 1024 * 1024),
         error=E.ResponseTooLargeError, hint="safety limit", client=dict(max_response_bytes=8 * 1024 * 1024)),
    Case("gzip body cut off", "truncate_gzip", error=E.TruncatedResponseError, hint="incomplete"),
    Case("output URL on the API origin redirects twice, to storage", mode="v2",
         fake=dict(output_mode="redirect")),
    Case("output URL on a storage origin", mode="v2", fake=dict(output_mode="storage")),
    Case("v1 answer is a 303 to storage", "redirect", options=dict(code=303, location="{storage}/files/{job}.mp4"),
         on="v1"),
    Case("redirect loop on the output URL", "redirect", on="output_redirect", mode="v2",
         options=dict(location="/v2/outputs/loop.mp4"), server=dict(times=20), error=E.UnexpectedResponseError,
         hint="kept redirecting"),
    Case("submit answered after the poll read timeout", mode="v2", fake=dict(submit_delay=2.0),
         client=dict(poll_read_timeout=1.0), min_s=2.0),
    Case("status 404s three times after the submit", mode="v2", fake=dict(early_404=3)),
    Case("COMPLETED result without output once", "no_output", on="result", mode="v2"),
    Case("COMPLETED result never has output", "no_output", on="result", mode="v2", server=dict(times=50),
         error=E.UnexpectedResponseError, hint="holds no video"),
    Case("status 404 for good (job unknown)", mode="v2", fake=dict(early_404=50), error=E.JobNotFoundError,
         hint="does not submit it again"),
]


@pytest.fixture(scope="module")
def image_b64():
    return image_to_base64(textured_image())


def _refused_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fault(case, make_client, image_b64):
    with FakeSegmind(**dict(dict(retry_after=1), **case.fake)) as fake:
        if case.fault not in (None, "refused"):
            options = {k: v.format(storage=fake.storage_url, job="v1job") if isinstance(v, str) else v
                       for k, v in case.options.items()}
            if case.fault == "redirect" and case.on == "v1":
                fake.jobs["v1job"] = Job("v1job", fake.expected_video(image_b64, DEFAULT_PARAMS), 0, 0)
            fake.inject(case.fault, on=case.on, times=case.server.get("times", 1), **options)
        base_url = _refused_url() if case.fault == "refused" else fake.base_url
        client = make_client(base_url=base_url, mode=case.mode, **dict(dict(connect_retries=2), **case.client))
        started = time.monotonic()
        try:
            result = client.generate(image_b64, DEFAULT_PARAMS)
            error = None
        except E.SegmindError as exc:
            error = exc
        took = time.monotonic() - started
        if case.error is None:
            assert error is None, error
            assert result.video == fake.expected_video(image_b64, DEFAULT_PARAMS)
        else:
            assert type(error) is case.error, repr(error)
            assert case.hint in str(error)
            assert TEST_KEY not in str(error)
        assert len(fake.posts()) == case.posts
        billed = len(fake.accepted_posts())
        assert billed <= 1
        if case.error is None and case.fault != "redirect":
            assert billed == 1
        assert fake.keys_seen_by_storage() == []  # the key never travels to another origin
        assert case.min_s <= took < case.max_s


# Where the client itself stops when asked to (the node stops waiting at once in every state; see
# tests/test_engine.py): only where stopping costs nothing. A POST in flight is always read to its end.
STOP_STATES = [
    ("v2 job queued / processing", "v2", None, None, {}),
    ("waiting out a 429", "v1", "rate_limit", "v1", {"headers": "reset-at"}),
    ("backing off after a connection refused", "v1", "refused", None, {}),
]


@pytest.mark.parametrize("mode,fault,on,options", [s[1:] for s in STOP_STATES], ids=[s[0] for s in STOP_STATES])
def test_the_client_stops_within_a_tick_where_stopping_is_free(mode, fault, on, options, make_client, image_b64):
    with FakeSegmind(latency=30, retry_after=30) as fake:
        if fault not in (None, "refused"):
            fake.inject(fault, on=on, times=5, **options)
        base_url = _refused_url() if fault == "refused" else fake.base_url
        client = make_client(base_url=base_url, mode=mode, tick_s=0.25, max_rate_limit_wait=60, backoff=30,
                             connect_retries=5)
        started = time.monotonic()
        with pytest.raises(E.CancelledError):
            client.generate(image_b64, DEFAULT_PARAMS, should_stop=lambda: time.monotonic() - started > 0.5)
        assert time.monotonic() - started < 1.6
        assert len(fake.accepted_posts()) <= 1


def test_the_docs_table_lists_every_case():
    doc = DOC.read_text()
    for case in CASES:
        assert f"| {case.id} |" in doc, case.id
    for state in STOP_STATES:
        assert state[0] in doc, state[0]

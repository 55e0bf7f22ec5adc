"""Segmind's MotionCtrl-SVD API: v2 (submit, poll, fetch) and v1 (one synchronous POST).

Money rules, because Segmind has no idempotency keys and bills every POST it accepted:
- a POST is re-sent only when Segmind certainly did not accept it: the connection was refused before anything
  was sent, or Segmind answered 429;
- a timeout, a dropped connection once the body was sent, or a 5xx after a POST is reported, never retried;
- everything after a v2 submit (status polls, result and video downloads) is free and idempotent, so it is
  retried with bounded backoff.
Every wait happens in short slices so the caller's cancel check runs at least once a second.
"""

import base64
import binascii
import datetime
import email.utils
import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from ..common import errors as E
from ..common.api_key import find_api_key
from ..common.config import DEFAULT_BASE_URL, load_settings
from ..common.log import logger, redact, register_secret
from ..common.params import validate_params
from ..media.video_sniff import check_video

MODEL_SLUG = "motionctrl-svd"
CREDITS_PATH = "/v1/get-user-credits"
MiB = 1024 * 1024
_JSON_VIDEO_KEYS = ("video", "image", "output", "data")
_STATES_WAITING = ("QUEUED", "PROCESSING")


@dataclass(frozen=True)
class Progress:
    state: str  # SUBMITTING, QUEUED, PROCESSING, DOWNLOADING, RATE_LIMITED
    elapsed: float
    request_id: str = None


@dataclass(frozen=True)
class SubmittedJob:
    """What must be kept to pick a v2 job up again after a cancel or a restart (Segmind keeps it 1 hour)."""
    request_id: str
    status_url: str
    response_url: str
    submitted_at: float

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(str(data["request_id"]), str(data["status_url"]), str(data["response_url"]),
                   float(data["submitted_at"]))


@dataclass(frozen=True)
class GenerationResult:
    video: bytes
    container: str
    api_version: str
    request_id: str = None
    seed: int = None
    remaining_credits: float = None
    generation_time: float = None
    cost: float = None
    elapsed: float = None


@dataclass
class _Response:
    status: int
    headers: dict
    body: bytes
    url: str

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class _Call:
    """One user-visible operation: its clock, its callbacks and its HTTP session."""

    def __init__(self, on_progress, should_cancel):
        self.started = time.monotonic()
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.state = "SUBMITTING"
        self.request_id = None
        self.session = requests.Session()
        self.keep_session = False

    def close(self):
        if not self.keep_session:
            self.session.close()

    def elapsed(self):
        return time.monotonic() - self.started

    def tick(self):
        if self.should_cancel is not None and self.should_cancel():
            raise E.CancelledError("Cancelled while waiting for Segmind.", request_id=self.request_id)
        if self.on_progress is not None:
            self.on_progress(Progress(self.state, self.elapsed(), self.request_id))

    def sleep(self, seconds, tick_s):
        end = time.monotonic() + max(0.0, seconds)
        while True:
            self.tick()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(tick_s, left))


class _NeverSent(Exception):
    """The connection failed before any byte of the request left: nothing can have been billed."""


class SegmindClient:
    def __init__(self, api_key, *, base_url=DEFAULT_BASE_URL, mode="auto", timeout_s=900.0,
                 connect_timeout=10.0, v1_read_timeout=600.0, poll_interval=2.0, poll_read_timeout=30.0,
                 max_response_bytes=512 * MiB, rate_limit_retries=4, max_rate_limit_wait=60.0,
                 connect_retries=3, poll_failures=5, backoff=1.0, tick_s=0.25, response_format="binary"):
        if not api_key:
            raise E.MissingApiKeyError("No Segmind API key given. Nothing was sent to Segmind.")
        if mode not in ("auto", "v2", "v1"):
            raise ValueError(f"mode must be auto, v2 or v1, not {mode!r}")
        register_secret(api_key)
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.mode = mode
        self.timeout_s = timeout_s
        self.connect_timeout = connect_timeout
        self.v1_read_timeout = v1_read_timeout
        self.poll_interval = poll_interval
        self.poll_read_timeout = poll_read_timeout
        self.max_response_bytes = max_response_bytes
        self.rate_limit_retries = rate_limit_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.connect_retries = connect_retries
        self.poll_failures = poll_failures
        self.backoff = backoff
        self.tick_s = min(tick_s, 1.0)
        self.response_format = response_format

    def __repr__(self):
        # The default dataclass-like repr would show the key in tracebacks and debug logs.
        return f"SegmindClient(base_url={self.base_url!r}, mode={self.mode!r})"

    @classmethod
    def from_env(cls, key_files=(), environ=None, other_places=(), **overrides):
        """A client configured from SEGMIND_* settings and the key's places, as the node uses it."""
        settings = load_settings(environ)
        key = find_api_key(environ, key_files, other_places)
        options = dict(base_url=settings.base_url, mode=settings.api_mode, timeout_s=settings.timeout_s)
        options.update(overrides)
        return cls(key, **options)

    # ---- public operations -------------------------------------------------------------------------------

    def generate(self, image_b64, params, *, on_progress=None, should_cancel=None, on_submitted=None,
                 on_late_result=None):
        """Turn one base64 image into a video. Validates everything before any network call.

        `on_submitted(job)` runs as soon as Segmind accepts a v2 job (record it to resume later). If the caller
        cancels while a POST is in flight, the wait stops at once, but the answer is still received in the
        background: an accepted v2 job still reaches `on_submitted`, and a v1 video `on_late_result(result)`,
        so what was paid for is not lost.
        """
        body = self._request_body(image_b64, params)
        call = _Call(on_progress, should_cancel)
        try:
            call.tick()  # a cancel that came in before sending must not cost anything
            if self.mode in ("auto", "v2"):
                job = self._submit_v2(call, body, on_submitted)
                if job is not None:
                    return self._finish_v2(call, job)
            return self._run_v1(call, body, on_late_result)
        finally:
            call.close()

    def resume(self, job, *, on_progress=None, should_cancel=None):
        """Wait for a v2 job submitted earlier (possibly by another process) and fetch its video."""
        call = _Call(on_progress, should_cancel)
        call.request_id = job.request_id
        try:
            return self._finish_v2(call, job)
        finally:
            call.close()

    def credits(self, *, should_cancel=None):
        """Segmind's credits look-up (GET /v1/get-user-credits): checks the key and bills nothing.

        Returns (credits, free_credits); either may be None when Segmind leaves it out.
        """
        call = _Call(None, should_cancel)
        try:
            response = self._send(call, "GET", self.base_url + CREDITS_PATH, None, self.poll_read_timeout,
                                  time.time() + self.connect_timeout + self.poll_read_timeout + 5)
        finally:
            call.close()
        if response.status in (404, 405):
            raise E.EndpointNotFoundError(f"{self.base_url} has no credits look-up, so the key cannot be checked "
                                          "for free here.", status=response.status)
        if response.status != 200:
            raise self._status_error(response, posted=False, api_version="v1")
        data = self._json(response, "credits look-up")
        if not isinstance(data, dict):
            raise E.UnexpectedResponseError(f"Segmind's credits look-up answered with JSON of an unknown shape "
                                            f"(keys: {_keys(data)}).", status=response.status)
        return _number(data.get("credits")), _number(data.get("free-credits", data.get("free_credits")))

    # ---- request building --------------------------------------------------------------------------------

    def _request_body(self, image_b64, params):
        image = _raw_base64(image_b64)
        body = {"input_image": image}
        body.update(validate_params(params))
        body["base64"] = self.response_format == "base64"
        return body

    def _url(self, version):
        return f"{self.base_url}/{version}/{MODEL_SLUG}"

    def _headers_for(self, url, extra=None):
        headers = {"User-Agent": "segmind-motionctrl-comfyui"}
        # The key goes only to Segmind's own origin, never to a CDN or storage host an output URL points at.
        if _origin(url) == _origin(self.base_url):
            headers["x-api-key"] = self._key
        headers.update(extra or {})
        return headers

    # ---- v2 ----------------------------------------------------------------------------------------------

    def _submit_v2(self, call, body, on_submitted):
        """The job, or None when this server has no v2 endpoint and auto mode may fall back to v1."""
        url = self._url("v2")
        response = self._post(call, url, body, read_timeout=self.poll_read_timeout,
                              on_late=lambda late: self._late_submit(late, url, on_submitted))
        if response.status in (404, 405) and self.mode == "auto":
            logger.info("Segmind v2 endpoint answered %s; falling back to v1 (nothing was accepted).",
                        response.status)
            return None
        if response.status not in (200, 201, 202):
            raise self._status_error(response, posted=True, api_version="v2")
        job = self._job_from(response, url)
        call.request_id = job.request_id
        call.state = "QUEUED"
        logger.info("Segmind accepted job %s.", job.request_id)
        if on_submitted is not None:
            on_submitted(job)
        return job

    def _job_from(self, response, url):
        data = self._json(response, "the v2 submit answer")
        request_id = data.get("request_id") if isinstance(data, dict) else None
        status_url = data.get("status_url") if isinstance(data, dict) else None
        response_url = data.get("response_url") if isinstance(data, dict) else None
        if not (request_id and status_url and response_url):
            raise E.UnexpectedResponseError(
                "Segmind accepted the request but its answer lacks request_id/status_url/response_url "
                f"(keys: {_keys(data)}), so the result cannot be fetched. It may have been billed; please "
                "report this.", status=response.status, request_id=request_id, may_have_been_billed=True)
        return SubmittedJob(str(request_id), urljoin(url, status_url), urljoin(url, response_url), time.time())

    def _late_submit(self, response, url, on_submitted):
        """A submit answer that arrived after the caller cancelled: record an accepted job all the same."""
        if response.status not in (200, 201, 202) or on_submitted is None:
            return
        job = self._job_from(response, url)
        on_submitted(job)
        logger.info("Segmind accepted job %s after the cancel; running the node again collects it.",
                    job.request_id)

    def _finish_v2(self, call, job):
        deadline = job.submitted_at + self.timeout_s
        call.request_id = job.request_id
        status = self._wait_until_done(call, job, deadline)
        result = self._get_idempotent(call, job.response_url, deadline, "the job's result")
        if result.status >= 400:
            raise self._status_error(result, posted=False, api_version="v2", job=job)
        data = self._json(result, "the job's result")
        call.state = "DOWNLOADING"
        video, headers = self._video_from_json(call, data, deadline, billed=True)
        metrics = {}
        for source in (status, data):
            if isinstance(source, dict) and isinstance(source.get("metrics"), dict):
                metrics.update(source["metrics"])
        return self._result(call, video, "v2", {**result.headers, **headers}, metrics)

    def _wait_until_done(self, call, job, deadline):
        call.sleep(min(1.0, self.poll_interval), self.tick_s)
        while True:
            response = self._get_idempotent(call, job.status_url, deadline, "the job's status")
            data = _json_or_none(response)
            state = str(data.get("status", "")).upper() if isinstance(data, dict) else ""
            if state == "FAILED" or response.status == 422:
                raise E.JobFailedError(
                    "Segmind reported that generating the video failed. Failed jobs are not billed; check the "
                    "input image and parameters, then run again.", status=response.status,
                    request_id=job.request_id, server_message=_error_text(response))
            if response.status >= 400:
                raise self._status_error(response, posted=False, api_version="v2", job=job)
            if state == "COMPLETED":
                return data
            if state not in _STATES_WAITING:
                raise E.UnexpectedResponseError(
                    f"Segmind's job status is {state or 'missing'!r}, which the pack does not know. The job "
                    "may still finish: run the node again within an hour to pick it up.",
                    status=response.status, request_id=job.request_id)
            call.state = state
            call.sleep(self.poll_interval, self.tick_s)

    def _deadline_error(self, call):
        return E.DeadlineExceededError(
            f"Segmind's job did not finish within {self.timeout_s:g} s (SEGMIND_TIMEOUT). It may still "
            "complete: run the node again within an hour of submitting to collect it without paying again.",
            request_id=call.request_id, may_have_been_billed=True)

    def _get_idempotent(self, call, url, deadline, what):
        """GET with bounded retries: polling and downloads are free, so transient failures are retried."""
        failures = 0
        rate_limited = 0
        while True:
            # A wall-clock deadline, because a job resumed after a restart carries its original submit time.
            if time.time() > deadline:
                raise self._deadline_error(call)
            try:
                response = self._send(call, "GET", url, None, self.poll_read_timeout,
                                      min(deadline, time.time() + self.poll_read_timeout + self.connect_timeout))
            except (E.ConnectionFailedError, E.OutcomeUnknownError, E.TruncatedResponseError) as exc:
                failures += 1
                if failures > self.poll_failures:
                    raise E.ConnectionFailedError(
                        f"Lost contact with Segmind while fetching {what} ({exc}). The job itself may still "
                        "finish: run the node again within an hour to collect it without paying again.",
                        request_id=call.request_id) from exc
                call.sleep(self.backoff * 2 ** (failures - 1), self.tick_s)
                continue
            if response.status == 429 and rate_limited < self.rate_limit_retries:
                rate_limited += 1
                call.sleep(self._rate_limit_wait(response, rate_limited), self.tick_s)
                continue
            if response.status in (500, 502, 503, 504) and failures < self.poll_failures:
                failures += 1
                call.sleep(self.backoff * 2 ** (failures - 1), self.tick_s)
                continue
            return response

    def _video_from_json(self, call, data, deadline, billed):
        value = _find_output(data)
        if isinstance(value, str) and re.match(r"https?://", value.strip(), re.I):
            response = self._get_idempotent(call, value.strip(), deadline, "the video file")
            if response.status >= 400:
                raise E.UnexpectedResponseError(
                    "Segmind finished the job but its video file could not be downloaded (output files are kept "
                    "7 days). Run the node again within an hour to retry the download without paying again.",
                    status=response.status, request_id=call.request_id, server_message=_error_text(response),
                    may_have_been_billed=billed)
            self._reject_non_video(response, billed)
            return response.body, response.headers
        if isinstance(value, str):
            return _decode_base64_video(value, call.request_id, billed), {}
        raise E.UnexpectedResponseError(
            f"Segmind's answer holds no video the pack recognises (JSON keys: {_keys(data)}). It may have been "
            "billed; please report this with the request id.", request_id=call.request_id,
            may_have_been_billed=billed)

    # ---- v1 ----------------------------------------------------------------------------------------------

    def _run_v1(self, call, body, on_late_result):
        call.state = "PROCESSING"
        response = self._post(call, self._url("v1"), body, read_timeout=self.v1_read_timeout,
                              on_late=lambda late: self._late_v1(late, call, on_late_result))
        return self._v1_result(call, response)

    def _late_v1(self, response, call, on_late_result):
        """A v1 video that arrived after the caller cancelled: it is paid for, so hand it over anyway."""
        if response.status == 200 and on_late_result is not None:
            on_late_result(self._v1_result(call, response))
            logger.info("Segmind's video arrived after the cancel and was kept; running again uses it.")

    def _v1_result(self, call, response):
        call.request_id = response.headers.get("x-request-id") or call.request_id
        if response.status != 200:
            raise self._status_error(response, posted=True, api_version="v1")
        call.state = "DOWNLOADING"
        if response.content_type == "application/json" or response.body[:1] == b"{":
            data = self._json(response, "the answer", billed=True)
            video, headers = self._video_from_json(call, data, time.time() + self.timeout_s, billed=True)
            return self._result(call, video, "v1", {**response.headers, **headers}, {})
        self._reject_non_video(response, billed=True)
        return self._result(call, response.body, "v1", response.headers, {})

    # ---- POST with the money rules -----------------------------------------------------------------------

    def _post(self, call, url, body, read_timeout, on_late=None):
        refused = 0
        rate_limited = 0
        while True:
            call.tick()
            try:
                response = self._send(call, "POST", url, body, read_timeout,
                                      time.time() + self.connect_timeout + read_timeout + 5, post=True,
                                      on_late=on_late)
            except _NeverSent as exc:
                refused += 1
                if refused > self.connect_retries:
                    raise E.ConnectionFailedError(
                        f"Could not connect to {_origin(url)} ({exc}). Check the internet connection, and "
                        "HTTPS_PROXY / NO_PROXY if you use a proxy. Nothing was sent, nothing was billed.") from exc
                logger.info("Connection to Segmind refused (%s); retrying, nothing was sent.", exc)
                call.sleep(self.backoff * 2 ** (refused - 1), self.tick_s)
                continue
            if response.status == 429 and rate_limited < self.rate_limit_retries:
                rate_limited += 1
                wait = self._rate_limit_wait(response, rate_limited)
                logger.info("Segmind rate limit hit; waiting %.1f s before retry %d of %d (429s are not billed).",
                            wait, rate_limited, self.rate_limit_retries)
                state, call.state = call.state, "RATE_LIMITED"
                call.sleep(wait, self.tick_s)
                call.state = state
                continue
            return response

    def _rate_limit_wait(self, response, attempt):
        wait = _retry_after_seconds(response.headers)
        if wait is None:
            wait = self.backoff * 2 ** attempt
        return min(max(wait, 0.0), self.max_rate_limit_wait)

    # ---- one HTTP exchange, waited on in slices ----------------------------------------------------------

    def _send(self, call, method, url, body, read_timeout, wall_deadline, post=False, on_late=None):
        """One request in a worker thread; the caller's thread polls cancel and enforces the deadline.

        With `on_late`, a cancel stops the wait at once but leaves the exchange running: when its answer
        arrives, the worker hands it to `on_late` (so an accepted, billed request is not thrown away).
        """
        holder = {}
        done = threading.Event()
        lock = threading.Lock()

        def work():
            try:
                holder["response"] = self._exchange(call.session, method, url, body, read_timeout, holder,
                                                    wall_deadline)
            except BaseException as exc:  # handed to the waiting thread, which decides what it means
                holder["error"] = exc
            with lock:
                done.set()
                late = holder.get("late")
            if late is not None and "response" in holder:
                _run_late(late, holder["response"])

        threading.Thread(target=work, name="segmind-http", daemon=True).start()
        try:
            while not done.wait(self.tick_s):
                call.tick()
                if time.time() > wall_deadline:
                    raise self._abandoned(method, url, "no complete answer within the time limit", post, call)
        except E.CancelledError:
            with lock:
                if on_late is not None and not done.is_set():
                    holder["late"] = on_late
                    call.keep_session = True  # the exchange still needs its connection
                    raise
            if on_late is None:
                holder["abort"] = True
                raise
            # The answer arrived just as the cancel did: handle it now; the next tick cancels.
        except BaseException:
            holder["abort"] = True  # the worker stops at its next read and closes its own connection
            raise
        if "error" in holder:
            raise self._transport_error(holder["error"], method, url, post, call)
        return holder["response"]

    def _exchange(self, session, method, url, body, read_timeout, holder, wall_deadline):
        headers = self._headers_for(url)
        # requests would re-send x-api-key to wherever a redirect points; with the key attached, don't follow.
        kwargs = dict(headers=headers, timeout=(self.connect_timeout, read_timeout), stream=True,
                      allow_redirects="x-api-key" not in headers)
        ca_bundle = _ca_bundle()
        if ca_bundle:
            kwargs["verify"] = ca_bundle
        if body is not None:
            kwargs["data"] = json.dumps(body).encode("utf-8")
            kwargs["headers"]["Content-Type"] = "application/json"
        with session.request(method, url, **kwargs) as raw:
            headers = {k.lower(): v for k, v in raw.headers.items()}
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise _TooLarge(int(declared))
            body_bytes = self._read_body(raw.raw, holder, wall_deadline)
            return _Response(raw.status_code, headers, body_bytes, raw.url)

    def _read_body(self, stream, holder, wall_deadline):
        """Read in small pieces so a trickling or abandoned download stops itself (the socket is only ever
        touched from this thread: closing it from the waiting thread can block on the reader's lock)."""
        read = getattr(stream, "read1", None) or stream.read
        chunks, size = [], 0
        try:
            while True:
                chunk = read(256 * 1024)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise _TooLarge(size)
                if holder.get("abort") or time.time() > wall_deadline:
                    raise _Aborted()
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(str(exc)) from exc
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead) as exc:
            raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc

    def _transport_error(self, exc, method, url, post, call):
        if isinstance(exc, _Aborted):
            return self._abandoned(method, url, "no complete answer within the time limit", post, call)
        if isinstance(exc, _TooLarge):
            return E.ResponseTooLargeError(
                f"Segmind's answer is larger than the {self.max_response_bytes // MiB} MiB safety limit, so it "
                "was not downloaded. This is not a normal MotionCtrl clip; please report it.",
                request_id=call.request_id, may_have_been_billed=post or call.request_id is not None)
        if isinstance(exc, (requests.exceptions.InvalidHeader, UnicodeError)) or (
                isinstance(exc, ValueError) and not isinstance(exc, requests.exceptions.RequestException)):
            # Raised while building the request; the library's text quotes the header value (the key).
            return E.InvalidApiKeyError(
                f"The request to {_origin(url)} could not be built: the HTTP library refused a header value, "
                "most likely the API key (its text is not shown, since it quotes the value). Check that "
                "SEGMIND_API_KEY or the key file holds only the key, on one line. Nothing was sent to Segmind.")
        if isinstance(exc, requests.exceptions.SSLError):
            return E.ConnectionFailedError(
                f"Could not verify the TLS certificate of {_origin(url)}: the connection is not trusted, so "
                "nothing was sent. Behind a company proxy, point REQUESTS_CA_BUNDLE (or SSL_CERT_FILE) at its "
                f"CA certificate file. Details: {_reason(exc)}")
        if _never_sent(exc):
            return _NeverSent(_reason(exc)) if post else E.ConnectionFailedError(
                f"Could not connect to {_origin(url)} ({_reason(exc)}).", request_id=call.request_id)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return E.TruncatedResponseError(
                "The connection broke while Segmind's answer was arriving, so it is incomplete."
                + (_BILLED_UNKNOWN if post else ""), request_id=call.request_id, may_have_been_billed=True)
        if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
            return self._abandoned(method, url, _reason(exc), post, call)
        if isinstance(exc, requests.exceptions.RequestException):
            return E.ConnectionFailedError(f"The request to {_origin(url)} failed: {_reason(exc)}",
                                           request_id=call.request_id)
        return exc

    def _abandoned(self, method, url, reason, post, call):
        if post:
            return E.OutcomeUnknownError(
                f"The request reached {_origin(url)} but no answer came back ({reason})." + _BILLED_UNKNOWN,
                request_id=call.request_id, may_have_been_billed=True)
        return E.OutcomeUnknownError(f"No answer from {_origin(url)} ({reason}).", request_id=call.request_id)

    # ---- responses ---------------------------------------------------------------------------------------

    def _status_error(self, response, *, posted, api_version, job=None):
        status = response.status
        request_id = response.headers.get("x-request-id") or (job.request_id if job else None)
        server_message = _error_text(response)
        billed_5xx = posted and api_version == "v1"
        kind, text = _STATUS_TEXT.get(status, (None, None))
        if kind is None and 300 <= status < 400:
            kind, text = E.UnexpectedResponseError, (
                f"{_origin(response.url)} answered with a redirect (HTTP {status}). Redirects are not followed "
                "while the API key is attached, so the key went nowhere else. Check SEGMIND_BASE_URL.")
        if kind is None:
            if status >= 500:
                kind, text = E.SegmindServerError, _STATUS_TEXT[500][1]
            else:
                kind, text = E.BadRequestError, "Segmind refused the request."
        if status == 429:
            text = text.format(retries=self.rate_limit_retries)
        if status == 404 and job is not None:
            kind, text = E.JobExpiredError, ("Segmind no longer has this job (results are kept for 1 hour after "
                                             "submitting). Run the node again to start a new, billed job.")
        elif status in (404, 405):
            text = text.format(url=response.url)
        if status >= 500 and posted:
            text += (" It was not re-sent automatically: Segmind may already have accepted (and billed) it; check "
                     "your usage on segmind.com before running again." if billed_5xx else
                     " Nothing was re-sent automatically.")
        return kind(text, status=status, request_id=request_id, server_message=server_message,
                    may_have_been_billed=billed_5xx and status >= 500)

    def _json(self, response, what, billed=False):
        data = _json_or_none(response)
        if data is None:
            raise E.UnexpectedResponseError(
                f"Segmind's {what} is not JSON ({_describe_body(response)}). A proxy or an outage page may "
                "be in the way; try again later.", status=response.status,
                request_id=response.headers.get("x-request-id"), may_have_been_billed=billed)
        return data

    def _reject_non_video(self, response, billed):
        if response.content_type == "text/html" or response.body.lstrip()[:1] == b"<":
            raise E.UnexpectedResponseError(
                f"Segmind answered with a web page instead of a video ({_describe_body(response)}). A proxy, "
                "a captive portal or an outage page is in the way; try again later.", status=response.status,
                request_id=response.headers.get("x-request-id"), may_have_been_billed=billed)
        check_video(response.body, what="The video Segmind returned", status=response.status,
                    request_id=response.headers.get("x-request-id"), may_have_been_billed=billed)

    def _result(self, call, video, api_version, headers, metrics):
        container = check_video(video, what="The video Segmind returned", request_id=call.request_id,
                                may_have_been_billed=True)
        seed = _number(headers.get("x-seed-value"))
        return GenerationResult(
            video=video, container=container, api_version=api_version,
            request_id=headers.get("x-request-id") or call.request_id,
            seed=int(seed) if seed is not None else None,
            remaining_credits=_number(headers.get("x-remaining-credits")),
            generation_time=_number(headers.get("x-generation-time")) or _metric(metrics, "inference_time", "generation_time"),
            cost=_number(headers.get("x-credits-consumed")) or _metric(metrics, "cost", "credits"),
            elapsed=call.elapsed())


class _Aborted(Exception):
    """The exchange passed its deadline, or the waiting thread gave up on it."""


class _TooLarge(Exception):
    def __init__(self, size):
        super().__init__(size)
        self.size = size


_BILLED_UNKNOWN = (" Segmind may have accepted and billed it, so it was not re-sent automatically (that could "
                   "bill twice). Check your usage on segmind.com before running again.")

_STATUS_TEXT = {
    400: (E.BadRequestError, "Segmind rejected the request as invalid. Check the image and the parameters; "
                             "nothing was generated."),
    401: (E.AuthenticationError, "Segmind did not accept the API key. Check that SEGMIND_API_KEY (or the pack's "
                                 "key file) holds a current key from https://cloud.segmind.com/console/api-keys, "
                                 "with nothing else in it."),
    403: (E.PermissionDeniedError, "Segmind refused access to MotionCtrl-SVD for this key (permissions or "
                                   "plan). Check the key's account on segmind.com."),
    404: (E.EndpointNotFoundError, "Segmind has no MotionCtrl-SVD endpoint at {url}. Check SEGMIND_BASE_URL "
                                   "(unset it to use https://api.segmind.com) and SEGMIND_API_MODE."),
    405: (E.EndpointNotFoundError, "{url} does not accept this request. Check SEGMIND_BASE_URL and "
                                   "SEGMIND_API_MODE."),
    406: (E.InsufficientCreditsError, "Not enough Segmind credits for this call (about $0.09 each). Top up at "
                                      "https://cloud.segmind.com/console/billing; nothing was generated."),
    422: (E.JobFailedError, "Segmind could not process this request. Failed jobs are not billed; check the "
                            "image and parameters."),
    429: (E.RateLimitedError, "Segmind's rate limit was still hit after {retries} waits (Free plans allow 5 "
                              "calls a minute, Pro 50). Wait a minute, or lower SEGMIND_CONCURRENCY."),
    500: (E.SegmindServerError, "Segmind had a server error."),
    502: (E.SegmindServerError, "Segmind's service is temporarily unavailable (bad gateway)."),
    503: (E.SegmindServerError, "Segmind's service is temporarily unavailable."),
    504: (E.SegmindServerError, "Segmind timed out while generating."),
}


def _raw_base64(image_b64):
    if not isinstance(image_b64, str) or not image_b64.strip():
        raise E.InvalidImageError("input_image must be a non-empty base64 string. Nothing was sent to Segmind.")
    text = image_b64.strip()
    if text.startswith("data:"):
        # Segmind documents raw base64; a data-URI prefix is unverified, so never send one.
        text = text.split(",", 1)[-1]
    return text


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _never_sent(exc):
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    todo = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:  # UnicodeError.reason is a str
            continue
        seen.add(id(item))
        if isinstance(item, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError)):
            return True
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
    return False


def _reason(exc):
    text = str(exc)
    errno_text = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if errno_text:  # "[Errno 111] Connection refused" says it all; the pool internals around it do not
        return errno_text.group(0).strip()
    # requests' texts repeat pool internals; keep them short and human.
    text = re.sub(r"HTTPS?ConnectionPool\([^)]*\): ", "", text)
    text = re.sub(r"<urllib3\.[^>]*>: ", "", text)
    return redact(text)[:300] or type(exc).__name__


def _run_late(handler, response):
    try:
        handler(response)
    except Exception as exc:  # a background thread: log, never raise into nowhere
        logger.warning("Could not keep a result that arrived after the cancel: %s", exc)


def _ca_bundle():
    # requests reads REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE itself, but not SSL_CERT_FILE.
    if os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
        return None
    return os.environ.get("SSL_CERT_FILE") or None


def _json_or_none(response):
    try:
        return json.loads(response.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def _error_text(response):
    data = _json_or_none(response)
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "msg"):
            if data.get(key):
                value = data[key]
                return value if isinstance(value, str) else json.dumps(value)
        return None
    if response.body and (response.content_type == "text/html" or response.body.lstrip()[:1] == b"<"):
        return None  # an HTML page is described by _describe_body, not quoted
    text = redact(response.body[:4096].decode("utf-8", "replace"))[:300].strip()  # scrub before cutting
    return text or None


def _describe_body(response):
    if not response.body:
        return f"an empty body, HTTP {response.status}"
    title = re.search(rb"<title[^>]*>(.*?)</title>", response.body[:4096], re.I | re.S)
    if title:
        return f"an HTML page titled \"{redact(title.group(1).decode('utf-8', 'replace').strip())[:80]}\", HTTP " \
               f"{response.status}"
    kind = response.content_type or "no content type"
    return f"{len(response.body)} bytes of {kind}, HTTP {response.status}"


def _keys(data):
    if isinstance(data, dict):
        return ", ".join(sorted(map(str, data))[:12]) or "none"
    return type(data).__name__


def _find_output(data):
    if isinstance(data, dict):
        for key in _JSON_VIDEO_KEYS:
            value = data.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):
                value = _find_output(value)
            if isinstance(value, str) and value.strip():
                return value
    return None


def _decode_base64_video(text, request_id, billed):
    text = text.strip()
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise E.UnexpectedResponseError(
            "Segmind's answer holds a video field that is neither a URL nor valid base64; please report this.",
            request_id=request_id, may_have_been_billed=billed) from None


def _retry_after_seconds(headers):
    value = (headers.get("retry-after") or "").strip()
    if value:
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            pass
    reset = (headers.get("x-rate-limit-reset-at-utc") or "").strip()
    if reset:
        return _seconds_until(reset)
    return None


def _seconds_until(reset):
    try:
        stamp = float(reset)
        if stamp > 1e12:  # milliseconds
            stamp /= 1000.0
        return stamp - time.time()
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp() - time.time()


def _number(value):
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _metric(metrics, *names):
    """The first metric whose key contains one of `names`, trying the names in order of preference."""
    for name in names:
        for key, value in metrics.items():
            number = _number(value) if name in str(key).lower() else None
            if number is not None:
                return number
    return None

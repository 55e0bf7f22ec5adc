"""The Segmind client: one still image and its parameters in, one video out, under the pack's money rules.

Modes: `auto` (v2, falling back to v1 only when v2 answers 404/405, which bills nothing), `v2`, `v1`.
Everything that can be checked locally (parameters, the image's base64) is checked before any request.
The calls block their thread: the job engine runs them in workers and never on ComfyUI's event loop.
`should_stop` is asked only where stopping is free (before the POST, while waiting out a 429 or between
polls); a POST, once started, is always read to its end, so a paid answer is never thrown away.
"""

import time

from ..common import errors as E
from ..common.log import logger, register_secret
from ..common.params import validate_params
from .answers import require_json, status_error
from .contract import CREDITS_PATH, DEFAULT_BASE_URL, JOB_RETENTION_S, MODEL_SLUG
from .polling import PollSchedule
from .results import to_number
from .retry import RateGate, RetryPolicy, Waiting, send
from .transport import MiB, Transport, origin
from . import v1, v2

_gates = {}


def shared_gate(base_url):
    """The rate-limit pause shared by every client of this process talking to one origin."""
    return _gates.setdefault(origin(base_url), RateGate())


class _Call:
    """One operation's context: what the protocol modules need, and its clock."""

    def __init__(self, client, waiting):
        self.transport = client.transport
        self.policy = client.policy
        self.gate = client.gate
        self.schedule = client.schedule
        self.mode = client.mode
        self.poll_read_timeout = client.poll_read_timeout
        # A video is larger than a status answer: on a slow line it needs longer to arrive whole.
        self.download_read_timeout = 2 * client.poll_read_timeout
        self.submit_read_timeout = client.submit_read_timeout
        self.v1_read_timeout = client.v1_read_timeout
        self.waiting = waiting
        self.started = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.started


class SegmindClient:
    def __init__(self, api_key, *, base_url=DEFAULT_BASE_URL, mode="auto", timeout_s=900.0, connect_timeout=10.0,
                 v1_read_timeout=600.0, submit_read_timeout=300.0, poll_read_timeout=30.0,
                 max_response_bytes=512 * MiB, rate_limit_retries=4, max_rate_limit_wait=60.0, connect_retries=3,
                 poll_failures=5, backoff=1.0, tick_s=0.25, response_format="binary", poll_interval=None,
                 schedule=None, gate=None):
        if not api_key:
            raise E.MissingApiKeyError("No Segmind API key given. Nothing was sent to Segmind.")
        if mode not in ("auto", "v2", "v1"):
            raise ValueError(f"mode must be auto, v2 or v1, not {mode!r}")
        register_secret(api_key)
        self.base_url = base_url.rstrip("/")
        self.mode = mode
        self.timeout_s = timeout_s
        self.v1_read_timeout = v1_read_timeout
        self.submit_read_timeout = submit_read_timeout
        self.poll_read_timeout = poll_read_timeout
        self.tick_s = tick_s
        self.response_format = response_format
        self.transport = Transport(self.base_url, api_key, connect_timeout=connect_timeout,
                                   max_response_bytes=max_response_bytes)
        self.policy = RetryPolicy(connect_retries=connect_retries, rate_limit_retries=rate_limit_retries,
                                  max_rate_limit_wait=max_rate_limit_wait, get_failures=poll_failures,
                                  backoff=backoff)
        self.schedule = schedule or (PollSchedule.every(poll_interval) if poll_interval else PollSchedule())
        self.gate = gate or shared_gate(self.base_url)

    def __repr__(self):
        # A default repr would show the key in tracebacks and debug logs.
        return f"SegmindClient(base_url={self.base_url!r}, mode={self.mode!r})"

    @classmethod
    def from_env(cls, key_files=(), environ=None, other_places=(), **overrides):
        """A client configured from SEGMIND_* settings and the key's places, as the node uses it."""
        from ..common.api_key import find_api_key
        from ..common.settings import load_settings

        settings = load_settings(environ)
        key = find_api_key(environ, key_files, other_places)
        options = dict(base_url=settings.base_url, mode=settings.api_mode, timeout_s=settings.timeout_s)
        options.update(overrides)
        return cls(key, **options)

    # ---- operations --------------------------------------------------------------------------------------

    def request_body(self, image_b64, params):
        """The JSON body of a call, validated: what decides the video (and the cache key) and nothing else."""
        if not isinstance(image_b64, str) or not image_b64.strip():
            raise E.InvalidImageError("input_image must be a non-empty base64 string. Nothing was sent to Segmind.")
        image = image_b64.strip()
        if image.startswith("data:"):
            image = image.split(",", 1)[-1]  # Segmind documents raw base64; a data-URI prefix is unverified
        return {"input_image": image, **validate_params(params), "base64": self.response_format == "base64"}

    def generate(self, image_b64, params, *, on_state=None, should_stop=None, on_submitted=None):
        """Turn one base64 image into a video (a GenerationResult).

        `on_submitted(job)` runs the moment Segmind accepts a v2 job, before any waiting: record it, so a
        cancel or a restart resumes the job instead of paying for another.
        """
        body = self.request_body(image_b64, params)
        started = time.time()
        waiting = self._waiting(started + self.timeout_s, should_stop, on_state)
        call = _Call(self, waiting)
        waiting.check()  # a stop that came before sending costs nothing
        if self.mode in ("auto", "v2"):
            job = v2.submit(call, self._url("v2"), body)
            if job is not None:
                logger.info("Segmind accepted job %s.", job.request_id)
                if on_submitted is not None:
                    on_submitted(job)
                waiting.deadline = min(job.submitted_at + self.timeout_s, job.expires_at())
                return v2.finish(call, job)
        return v1.run(call, self._url("v1"), body)

    def resume(self, job, *, on_state=None, should_stop=None):
        """Collect a v2 job submitted earlier (maybe by another process): a fresh wait, within Segmind's hour."""
        waiting = self._waiting(min(time.time() + self.timeout_s, job.submitted_at + JOB_RETENTION_S),
                                should_stop, on_state)
        return v2.finish(_Call(self, waiting), job, resumed=True)

    def credits(self, *, should_stop=None):
        """Segmind's credits look-up: checks the key and bills nothing. Returns (credits, free_credits)."""
        waiting = self._waiting(time.time() + self.poll_read_timeout + 15, should_stop, None)
        answer = send(self.transport, "GET", self.base_url + CREDITS_PATH, policy=self.policy, gate=self.gate,
                      waiting=waiting, read_timeout=self.poll_read_timeout, api_version="v1")
        if answer.status in (404, 405):
            raise E.EndpointNotFoundError(f"{self.base_url} has no credits look-up, so the key cannot be checked "
                                          "for free here.", status=answer.status)
        if answer.status != 200:
            raise status_error(answer, posted=False, api_version="v1")
        data = require_json(answer, "credits look-up")
        if not isinstance(data, dict):
            raise E.UnexpectedResponseError("Segmind's credits look-up answered with JSON of an unknown shape.",
                                            status=answer.status)
        return to_number(data.get("credits")), to_number(data.get("free-credits", data.get("free_credits")))

    def close(self):
        self.transport.close()

    # ---- helpers -----------------------------------------------------------------------------------------

    def _url(self, version):
        return f"{self.base_url}/{version}/{MODEL_SLUG}"

    def _waiting(self, deadline, should_stop, on_state):
        timeout_s = self.timeout_s

        def deadline_error():
            return E.DeadlineExceededError(
                f"Segmind's job did not finish within {timeout_s:g} s (SEGMIND_TIMEOUT). It may still complete: run "
                "the node again within an hour of submitting to collect it without paying again.",
                may_have_been_billed=True)
        return Waiting(deadline=deadline, should_stop=should_stop, on_state=on_state, tick_s=self.tick_s,
                       deadline_error=deadline_error)

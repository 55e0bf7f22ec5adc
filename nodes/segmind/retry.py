"""The one retry policy: what may be sent again, how long to wait, and the waits themselves.

Segmind has no idempotency keys and bills every POST it accepted, so:
- a POST is re-sent only when it provably never left (connection refused, host not found, connect timeout)
  or when Segmind answered 429 (a refused request is not billed);
- a GET (status poll, result, video download) is free and idempotent: timeouts, dropped or cut-off
  answers and 5xx are retried with exponential backoff, a bounded number of times;
- a 429 is honoured the same way for both: its reset time (`x-rate-limit-reset-at-utc`, Segmind's header;
  `Retry-After` from a proxy) holds *every* request of the process to that origin until then (RateGate),
  not only the one that got it.
Every wait is cut into short slices so a stop request is seen within a tick, and none passes the deadline.
"""

import datetime
import email.utils
import threading
import time
from dataclasses import dataclass

from ..common import errors as E
from .answers import status_error, transport_error
from .transport import (NeverSent, TooLarge, TooManyRedirects, TransportFailure, Unbuildable, Undecodable,
                        Untrusted)

_TRANSIENT_STATUSES = (500, 502, 503, 504)
# One exchange must end within its read timeout plus this (and the connect time): a server trickling a byte
# at a time never trips the socket's read timeout, so the whole answer is bounded too.
EXCHANGE_SLACK_S = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    connect_retries: int = 3  # refused before sending (POST or GET)
    rate_limit_retries: int = 4  # 429s per request
    max_rate_limit_wait: float = 60.0  # seconds, per 429
    get_failures: int = 5  # GETs only: timeouts, drops, truncation, 5xx
    backoff: float = 1.0  # first wait; doubles each time
    max_backoff: float = 30.0

    def backoff_s(self, attempt):
        return min(self.max_backoff, self.backoff * 2 ** max(0, attempt - 1))


class RateGate:
    """A process-wide pause after a 429: requests wait here before they are sent."""

    def __init__(self):
        self._until = 0.0
        self._lock = threading.Lock()

    def hold_until(self, moment):
        with self._lock:
            self._until = max(self._until, moment)

    def remaining(self):
        with self._lock:
            return max(0.0, self._until - time.time())


class Waiting:
    """One call's clock: its deadline, the stop check and the state shown to the user while it waits."""

    def __init__(self, *, deadline, should_stop=None, on_state=None, tick_s=0.25, deadline_error=None):
        self.deadline = deadline  # wall clock
        self.should_stop = should_stop
        self.on_state = on_state
        self.tick_s = min(tick_s, 1.0)
        self.deadline_error = deadline_error or (lambda: E.DeadlineExceededError("Segmind took too long."))
        self.state = None

    def set_state(self, state):
        self.state = state
        if self.on_state is not None:
            self.on_state(state)

    def check(self):
        if self.should_stop is not None and self.should_stop():
            raise E.CancelledError("Stopped waiting for Segmind.")
        if time.time() > self.deadline:
            raise self.deadline_error()

    def sleep(self, seconds):
        end = time.time() + max(0.0, seconds)
        while True:
            self.check()
            left = end - time.time()
            if left <= 0:
                return
            time.sleep(min(self.tick_s, left, max(0.0, self.deadline - time.time()) + 0.01))


def send(transport, method, url, *, json_body=None, policy, gate, waiting, read_timeout, request_id=None,
         api_version="v2", public=False):
    """One request under the policy; returns the final Answer (which may still be an error status).

    Raises the user-facing error when it gives up: ConnectionFailedError, OutcomeUnknownError, ...
    """
    idempotent = method == "GET"
    refused = failures = limited = 0
    while True:
        pause = gate.remaining()
        if pause > 0:
            _wait_rate_limit(waiting, pause)
        waiting.check()
        bound = time.time() + transport.connect_timeout + read_timeout + EXCHANGE_SLACK_S
        try:
            answer = transport.request(method, url, json_body=json_body, read_timeout=read_timeout,
                                       deadline=min(waiting.deadline, bound), public=public)
        except Unbuildable as failure:
            raise transport_error(failure, posted=False, request_id=request_id) from None
        except NeverSent as failure:
            refused += 1
            if refused > policy.connect_retries:
                raise transport_error(failure, posted=not idempotent, request_id=request_id) from None
            waiting.sleep(policy.backoff_s(refused))
            continue
        except TransportFailure as failure:
            final = isinstance(failure, (TooLarge, TooManyRedirects, Untrusted, Undecodable))
            if idempotent and not final and failures < policy.get_failures and time.time() < waiting.deadline:
                failures += 1
                waiting.sleep(policy.backoff_s(failures))
                continue
            raise transport_error(failure, posted=not idempotent, request_id=request_id) from None
        if answer.status == 429:
            limited += 1
            wait = rate_limit_wait(answer.headers, limited, policy)
            gate.hold_until(time.time() + wait)
            if limited > policy.rate_limit_retries:
                raise status_error(answer, posted=not idempotent, api_version=api_version, request_id=request_id,
                                   retries=limited - 1)
            continue
        if idempotent and answer.status in _TRANSIENT_STATUSES and failures < policy.get_failures:
            failures += 1
            waiting.sleep(policy.backoff_s(failures))
            continue
        return answer


def _wait_rate_limit(waiting, seconds):
    previous = waiting.state
    waiting.set_state("RATE_LIMITED")
    try:
        waiting.sleep(seconds)
    finally:
        waiting.set_state(previous)


def rate_limit_wait(headers, attempt, policy):
    wait = retry_after_seconds(headers)
    if wait is None:
        wait = policy.backoff_s(attempt + 1)
    return min(max(wait, 0.0), policy.max_rate_limit_wait)


def retry_after_seconds(headers):
    """Seconds to wait from Segmind's `x-rate-limit-reset-at-utc`, or a proxy's `Retry-After`; None if neither."""
    reset = (headers.get("x-rate-limit-reset-at-utc") or "").strip()
    if reset:
        seconds = _seconds_until(reset)
        if seconds is not None:
            return seconds
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
        try:
            moment = email.utils.parsedate_to_datetime(reset)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp() - time.time()

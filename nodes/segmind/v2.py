"""Segmind's asynchronous API: submit (the billed step), then poll, fetch the result and download the video.

After the submit everything is free and idempotent, so every GET is retried (retry.py) and a job can be
resumed by another run or process from its record (results.SubmittedJob):
- a resumed job gets a fresh wait, bounded by Segmind's one-hour retention counted from its submit time;
- a 404 means "expired" only near the end of that hour; earlier (a job can 404 for a moment right after it
  was accepted, behind a load balancer) it is asked again;
- a 422 / FAILED on either GET is a finished, unbilled failure;
- a COMPLETED result without `output` is fetched again, for free.
"""

import time
from urllib.parse import urljoin

from ..common import errors as E
from ..common.log import logger
from .answers import error_text, json_of, keys_of, require_json, status_error
from .contract import DONE_STATES, FAILED_STATES, WAITING_STATES
from .outputs import fetch_video, find_output, no_video_error
from .results import GenerationResult, SubmittedJob, accounting_from
from .retry import send

# A 404 this close to the end of Segmind's retention means the job is gone; earlier it is asked again.
EXPIRY_MARGIN_S = 5 * 60
NOT_FOUND_RETRIES = 5
MISSING_OUTPUT_RETRIES = 5
_ACCEPTED = (200, 201, 202)


def submit(call, url, body):
    """The accepted job, or None when this server has no v2 endpoint (auto mode falls back to v1)."""
    call.waiting.set_state("SUBMITTING")
    answer = send(call.transport, "POST", url, json_body=body, policy=call.policy, gate=call.gate,
                  waiting=call.waiting, read_timeout=call.submit_read_timeout, api_version="v2")
    if answer.status in (404, 405) and call.mode == "auto":
        logger.info("Segmind's v2 endpoint answered %s; falling back to v1 (nothing was accepted).", answer.status)
        return None
    if answer.status not in _ACCEPTED:
        raise status_error(answer, posted=True, api_version="v2")
    return job_from(answer, url)


def job_from(answer, url):
    data = require_json(answer, "answer to the submit (which it accepted)", billed=True)
    data = data if isinstance(data, dict) else {}
    request_id = _first(data, "request_id", "requestId", "id")
    if not request_id:
        raise E.UnexpectedResponseError(
            f"Segmind accepted the request but its answer has no request id (keys: {keys_of(data)}), so the result "
            "cannot be fetched. It may have been billed; please report this.", status=answer.status,
            request_id=answer.request_id, may_have_been_billed=True)
    # Segmind documents both URLs; if a proxy renamed or dropped them, its documented routes are used instead.
    base = urljoin(url, "/")
    status_url = _first(data, "status_url", "statusUrl", "poll_url") or f"{base}v2/requests/{request_id}/status"
    response_url = _first(data, "response_url", "responseUrl", "result_url") or f"{base}v2/requests/{request_id}"
    return SubmittedJob(str(request_id), urljoin(url, status_url), urljoin(url, response_url), time.time())


def finish(call, job, *, resumed=False):
    """Wait for the job and return its video. Raises JobFailedError (unbilled) or another SegmindError."""
    status_data, status_answer = _wait_until_done(call, job, resumed)
    data, answer = _fetch_result(call, job)
    call.waiting.set_state("DOWNLOADING")
    video, container = fetch_video(call, find_output(data), job.request_id)
    metrics = {}
    for source in (status_data, data):
        if isinstance(source, dict) and isinstance(source.get("metrics"), dict):
            metrics.update(source["metrics"])
    headers = {**(status_answer.headers if status_answer else {}), **answer.headers}
    return GenerationResult(video=video, container=container, api_version="v2", request_id=job.request_id,
                            accounting=accounting_from(headers, metrics, data), elapsed=call.elapsed())


def _wait_until_done(call, job, resumed):
    call.waiting.set_state("QUEUED")
    not_found = 0
    warned = False
    # A new job is first asked after first_s; a resumed one at once, then on the schedule from its age.
    age = time.time() - job.submitted_at
    moment = age if resumed else max(call.schedule.first_s, age)
    while True:
        call.waiting.sleep(job.submitted_at + moment - time.time())
        answer = send(call.transport, "GET", job.status_url, policy=call.policy, gate=call.gate,
                      waiting=call.waiting, read_timeout=call.poll_read_timeout, request_id=job.request_id)
        data = json_of(answer)
        state = _state(data)
        _raise_if_failed(answer, state, job)
        if answer.status == 404:
            not_found = _not_found(call, job, not_found, backoff=False)  # asked again on the schedule
        elif answer.status >= 400:
            raise status_error(answer, posted=False, api_version="v2", request_id=job.request_id)
        elif state in DONE_STATES:
            return data, answer
        else:
            not_found = 0
            if state not in WAITING_STATES and not warned:
                warned = True  # a state this pack does not know: keep asking, within the deadline
                logger.info("Segmind reports job %s as %r; still waiting for it.", job.request_id, state)
            call.waiting.set_state("QUEUED" if state in ("QUEUED", "IN_QUEUE", "PENDING") else "PROCESSING")
        moment += call.schedule.delay(moment)


def _fetch_result(call, job):
    not_found = missing = 0
    while True:
        answer = send(call.transport, "GET", job.response_url, policy=call.policy, gate=call.gate,
                      waiting=call.waiting, read_timeout=call.poll_read_timeout, request_id=job.request_id)
        data = json_of(answer)
        state = _state(data)
        _raise_if_failed(answer, state, job)
        if answer.status == 404:
            not_found = _not_found(call, job, not_found)
            continue
        if answer.status >= 400:
            raise status_error(answer, posted=False, api_version="v2", request_id=job.request_id)
        data = require_json(answer, "job result", billed=True, request_id=job.request_id)
        if find_output(data) is not None:
            return data, answer
        missing += 1
        if missing > MISSING_OUTPUT_RETRIES or (state and state not in DONE_STATES + WAITING_STATES):
            raise no_video_error(data, job.request_id)
        # Just after COMPLETED the output can lag behind: ask again (free).
        call.waiting.sleep(call.policy.backoff_s(missing))


def _state(data):
    if not isinstance(data, dict):
        return ""
    return str(data.get("status") or data.get("state") or "").strip().upper()


def _raise_if_failed(answer, state, job):
    if answer.status == 422 or state in FAILED_STATES:
        raise E.JobFailedError(
            "Segmind reported that generating the video failed. Failed jobs are not billed; check the input image "
            "and parameters, then run again.", status=answer.status, request_id=job.request_id,
            server_message=error_text(answer))


def _not_found(call, job, count, backoff=True):
    if time.time() > job.expires_at() - EXPIRY_MARGIN_S:
        raise E.JobExpiredError(
            "Segmind no longer has this job (results are kept for 1 hour after submitting). Run the node again to "
            "start a new, billed job.", status=404, request_id=job.request_id)
    count += 1
    if count > NOT_FOUND_RETRIES:
        minutes = max(0, (time.time() - job.submitted_at) / 60)
        raise E.JobNotFoundError(
            f"Segmind answers 404 for job {job.request_id}, which it accepted {minutes:.0f} min ago. It may have "
            "been billed, so the pack does not submit it again: the record is kept, and running the node again "
            "within the hour asks Segmind again at no cost.", status=404, request_id=job.request_id,
            may_have_been_billed=True)
    if backoff:
        call.waiting.sleep(call.policy.backoff_s(count))
    return count


def _first(data, *names):
    for name in names:
        value = data.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None

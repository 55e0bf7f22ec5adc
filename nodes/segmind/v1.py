"""Segmind's synchronous API: one POST that answers with the video (raw bytes, or base64 inside JSON).

The POST is the billed step and the video comes in its answer, so a v1 call can only be retried when it
provably never left (retry.py); a timeout after sending is reported, never re-sent.
"""

from .answers import require_json, status_error
from .outputs import checked_video, fetch_video, find_output, no_video_error
from .results import GenerationResult, accounting_from
from .retry import send


def run(call, url, body):
    call.waiting.set_state("PROCESSING")
    answer = send(call.transport, "POST", url, json_body=body, policy=call.policy, gate=call.gate,
                  waiting=call.waiting, read_timeout=call.v1_read_timeout, api_version="v1")
    request_id = answer.request_id
    if not 200 <= answer.status < 300:
        raise status_error(answer, posted=True, api_version="v1")
    call.waiting.set_state("DOWNLOADING")
    data = None
    if answer.content_type == "application/json" or answer.body.lstrip()[:1] == b"{":
        data = require_json(answer, "answer", billed=True)
        value = find_output(data)
        if value is None:
            raise no_video_error(data, request_id)
        video, container = fetch_video(call, value, request_id)
    else:
        video, container = checked_video(answer.body, request_id, answer)
    metrics = data.get("metrics") if isinstance(data, dict) else None
    return GenerationResult(video=video, container=container, api_version="v1", request_id=request_id,
                            accounting=accounting_from(answer.headers, metrics, data), elapsed=call.elapsed())

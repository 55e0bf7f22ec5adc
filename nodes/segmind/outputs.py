"""Where the video is in Segmind's answer, and getting its bytes: a URL to download, or inline base64.

The field's name is unverified for this model (see segmind-api.md): `output` for v2 results ("always present
across all modalities"), `video` / `image` / `data` in v1's base64 JSON. A list or an object holding the URL
is accepted as well, and the URL may answer with redirects to a storage host (the transport follows them,
without the key).
"""

import base64
import binascii
import re

from ..common import errors as E
from ..media.video_sniff import check_video
from .answers import describe_body, error_text, is_html, keys_of
from .retry import send

_VIDEO_KEYS = ("output", "video", "image", "data", "output_url", "video_url", "url", "outputs", "result")
_BASE64_SPACE = re.compile(rb"\s+")


def find_output(data):
    """The URL or base64 text of the video in a JSON answer, or None."""
    if isinstance(data, dict):
        for key in _VIDEO_KEYS:
            found = _value_of(data.get(key))
            if found:
                return found
    return None


def _value_of(value):
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return find_output(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def is_url(value):
    return bool(re.match(r"https?://", value, re.I))


def decode_base64_video(text, request_id):
    """Inline base64 (a `data:` prefix and MIME-style line breaks allowed) → bytes."""
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(_BASE64_SPACE.sub(b"", text.encode("ascii")), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise E.UnexpectedResponseError(
            "Segmind's answer holds a video field that is neither a URL nor valid base64; please report this.",
            request_id=request_id, may_have_been_billed=True) from None


def fetch_video(ctx, value, request_id):
    """The video's bytes from the output value (URL or base64), checked to be a whole video file."""
    if is_url(value):
        answer = send(ctx.transport, "GET", value, policy=ctx.policy, gate=ctx.gate, waiting=ctx.waiting,
                      read_timeout=ctx.download_read_timeout, request_id=request_id, public=True)
        if answer.status >= 400:
            raise E.UnexpectedResponseError(
                "Segmind finished the job but its video file could not be downloaded (output files are kept 7 "
                "days). Run the node again within an hour to retry the download without paying again.",
                status=answer.status, request_id=request_id, server_message=error_text(answer),
                may_have_been_billed=True)
        return checked_video(answer.body, request_id, answer)
    return checked_video(decode_base64_video(value, request_id), request_id)


def checked_video(data, request_id, answer=None):
    if answer is not None and is_html(answer):
        raise E.UnexpectedResponseError(
            f"Segmind answered with a web page instead of a video ({describe_body(answer)}). A proxy, a captive "
            "portal or an outage page is in the way; try again later.", status=answer.status,
            request_id=request_id, may_have_been_billed=True)
    container = check_video(data, what="The video Segmind returned", request_id=request_id,
                            may_have_been_billed=True, status=answer.status if answer is not None else None)
    return data, container


def no_video_error(data, request_id):
    return E.UnexpectedResponseError(
        f"Segmind's answer holds no video the pack recognises (JSON keys: {keys_of(data)}). It may have been "
        "billed; please report this with the request id.", request_id=request_id, may_have_been_billed=True)

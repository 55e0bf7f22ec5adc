"""Segmind's answers and transport failures, turned into the errors a user reads.

Every message says what happened, what to do, and whether the call may have been billed, because that decides
whether running again is safe. Segmind's own `error` text is quoted (scrubbed of the key by errors.py).
"""

import json
import re

from ..common import errors as E
from .transport import (NeverSent, NoAnswer, TooLarge, TooManyRedirects, Truncated, Unbuildable, Undecodable,
                        Untrusted, origin)

BILLED_UNKNOWN = (" Segmind may have accepted and billed it, so it was not re-sent automatically (that could "
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
    406: (E.InsufficientCreditsError, "Not enough Segmind credits for this call (about $0.09 each), or a team "
                                      "spend limit was reached. Top up at https://cloud.segmind.com/console/billing; "
                                      "nothing was generated."),
    422: (E.JobFailedError, "Segmind could not process this request. Failed jobs are not billed; check the "
                            "image and parameters."),
    429: (E.RateLimitedError, "Segmind's rate limit was still hit after {retries} waits (Free plans allow 5 "
                              "calls a minute, Pro 50). Wait a minute, or lower SEGMIND_CONCURRENCY."),
    500: (E.SegmindServerError, "Segmind had a server error."),
    502: (E.SegmindServerError, "Segmind's service is temporarily unavailable (bad gateway)."),
    503: (E.SegmindServerError, "Segmind's service is temporarily unavailable."),
    504: (E.SegmindServerError, "Segmind timed out while generating."),
}


def status_error(answer, *, posted, api_version, request_id=None, retries=0):
    """The error for a non-success HTTP status. `posted`: the answer is to a paid POST."""
    status = answer.status
    request_id = answer.request_id or request_id
    kind, text = _STATUS_TEXT.get(status, (None, None))
    if kind is None and 300 <= status < 400:
        kind, text = E.UnexpectedResponseError, (
            f"{origin(answer.url)} answered with a redirect (HTTP {status}) the pack does not follow for this "
            "request. The API key went nowhere else. Check SEGMIND_BASE_URL.")
    if kind is None:
        kind, text = (E.SegmindServerError, _STATUS_TEXT[500][1]) if status >= 500 else (
            E.BadRequestError, "Segmind refused the request.")
    text = text.format(retries=retries, url=answer.url)
    billed = posted and api_version == "v1" and status >= 500
    if status >= 500 and posted:
        text += (" It was not re-sent automatically: Segmind may already have accepted (and billed) it; check "
                 "your usage on segmind.com before running again." if billed else " Nothing was re-sent automatically.")
    return kind(text, status=status, request_id=request_id, server_message=error_text(answer),
                may_have_been_billed=billed)


def transport_error(failure, *, posted, request_id=None):
    """The error for a TransportFailure. `posted`: it happened on a paid POST (so billing is in question)."""
    where = origin(failure.url)
    billed = posted and failure.sent
    if isinstance(failure, Untrusted):
        return E.ConnectionFailedError(
            f"Could not verify the TLS certificate of {where}: the connection is not trusted, so nothing was "
            "sent. Behind a company proxy, point REQUESTS_CA_BUNDLE (or SSL_CERT_FILE) at its CA certificate "
            "file.", request_id=request_id)
    if isinstance(failure, Unbuildable):
        if failure.part == "address":
            return E.ConnectionFailedError(f"The address {where} is not valid. Check SEGMIND_BASE_URL (unset it to "
                                           "use https://api.segmind.com). Nothing was sent to Segmind.")
        # The only header value that is not the pack's own text is the key (its text is not shown: it quotes it).
        return E.InvalidApiKeyError(
            f"The request to {where} could not be built: the HTTP library refused a header value, most likely the "
            "API key. Check that SEGMIND_API_KEY or the key file holds only the key, on one line. Nothing was sent "
            "to Segmind.")
    if isinstance(failure, NeverSent):
        return E.ConnectionFailedError(
            f"Could not connect to {where} ({failure.reason}). Check the internet connection, and HTTPS_PROXY / "
            "NO_PROXY if you use a proxy. Nothing was sent, nothing was billed.", request_id=request_id)
    if isinstance(failure, TooLarge):
        return E.ResponseTooLargeError(
            f"Segmind's answer is larger than the {failure.limit // (1024 * 1024)} MiB safety limit, so it was "
            "not downloaded. This is not a normal MotionCtrl clip; please report it.", request_id=request_id,
            may_have_been_billed=posted or request_id is not None)
    if isinstance(failure, Undecodable):
        return E.UnexpectedResponseError(
            f"{where} answered in a form the pack cannot read: {failure.reason}." + (BILLED_UNKNOWN if billed else ""),
            request_id=request_id, may_have_been_billed=billed or request_id is not None)
    if isinstance(failure, Truncated):
        return E.TruncatedResponseError(
            f"The answer from {where} is incomplete: {failure.reason}." + (BILLED_UNKNOWN if billed else ""),
            request_id=request_id, may_have_been_billed=billed or request_id is not None)
    if isinstance(failure, TooManyRedirects):
        return E.UnexpectedResponseError(
            f"{where} kept redirecting ({failure.reason}), so the pack stopped following." +
            (BILLED_UNKNOWN if billed else " Try again later."), request_id=request_id,
            may_have_been_billed=billed or request_id is not None)
    if isinstance(failure, NoAnswer):
        if billed:
            return E.OutcomeUnknownError(f"The request reached {where} but no answer came back ({failure.reason})."
                                         + BILLED_UNKNOWN, request_id=request_id, may_have_been_billed=True)
        return E.OutcomeUnknownError(f"No answer from {where} ({failure.reason}).", request_id=request_id)
    return E.ConnectionFailedError(f"The request to {where} failed: {failure.reason}", request_id=request_id)


def json_of(answer):
    try:
        return json.loads(answer.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def require_json(answer, what, *, billed=False, request_id=None):
    data = json_of(answer)
    if data is None:
        raise E.UnexpectedResponseError(
            f"Segmind's {what} is not JSON ({describe_body(answer)}). A proxy or an outage page may be in the way"
            + ("." if billed else "; try again later."), status=answer.status,
            request_id=answer.request_id or request_id, may_have_been_billed=billed)
    return data


def is_html(answer):
    return answer.content_type == "text/html" or answer.body.lstrip()[:1] == b"<"


def error_text(answer):
    """Segmind's own error text from a JSON body, a short plain-text body, or None (HTML is described, not quoted)."""
    data = json_of(answer)
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "msg"):
            if data.get(key):
                value = data[key]
                return value if isinstance(value, str) else json.dumps(value)
        return None
    if not answer.body or is_html(answer):
        return None
    return answer.body[:4096].decode("utf-8", "replace").strip() or None


def describe_body(answer):
    if not answer.body:
        return f"an empty body, HTTP {answer.status}"
    title = re.search(rb"<title[^>]*>(.*?)</title>", answer.body[:4096], re.I | re.S)
    if title:
        text = E.quote(title.group(1).decode("utf-8", "replace"), limit=80)
        return f"an HTML page titled \"{text}\", HTTP {answer.status}"
    kind = answer.content_type or "no content type"
    return f"{len(answer.body)} bytes of {kind}, HTTP {answer.status}"


def keys_of(data):
    if isinstance(data, dict):
        return ", ".join(sorted(map(str, data))[:12]) or "none"
    return type(data).__name__

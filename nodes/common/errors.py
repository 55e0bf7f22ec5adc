"""Every failure the pack reports, as exceptions whose text says what happened and what to do next.

Messages quote Segmind's own `error` text and the request id when there is one, and say whether the call
may have been billed, because that decides whether the user should simply run again.
"""

from .log import redact

SIGNUP_HINT = "Create or copy a key at https://cloud.segmind.com/console/api-keys"


class SegmindError(Exception):
    """Base class: a failure with a message fit to show a ComfyUI user as is."""

    def __init__(self, message, *, status=None, request_id=None, server_message=None,
                 may_have_been_billed=False):
        self.status = status
        self.request_id = request_id
        self.server_message = redact(server_message) if server_message else server_message
        self.may_have_been_billed = may_have_been_billed
        super().__init__(redact(_with_details(message, status, request_id, self.server_message)))


def _with_details(message, status, request_id, server_message):
    details = []
    if server_message:
        details.append(f'Segmind said: "{quote(server_message)}"')
    if status:
        details.append(f"HTTP {status}")
    if request_id:
        details.append(f"request id {request_id}")
    return message if not details else f"{message} ({'; '.join(details)})"


def quote(text, limit=300):
    """Text from elsewhere, fit to show: scrubbed of keys first (a cut could split a key), then shortened."""
    text = " ".join(redact(str(text)).split())
    return text if len(text) <= limit else text[:limit] + "…"


def with_message(error, text):
    """A copy of `error` with another text: a call's error is shared by every waiter, so it is never changed."""
    copy = error.__class__.__new__(error.__class__)
    copy.__dict__.update(error.__dict__)
    copy.args = (text,)
    copy.__cause__, copy.__context__ = error.__cause__, error.__context__
    return copy


class MissingApiKeyError(SegmindError):
    pass


class InvalidApiKeyError(SegmindError):
    """A key value that cannot be a Segmind key; the message says where it came from and never quotes it."""


class InvalidParameterError(SegmindError, ValueError):
    def __init__(self, name, value, allowed):
        self.name = name
        self.value = value
        super().__init__(f"Invalid {name}={value!r}: it must be {allowed}. Nothing was sent to Segmind.")


class InvalidImageError(SegmindError, ValueError):
    pass


class BadRequestError(SegmindError):
    pass


class AuthenticationError(SegmindError):
    pass


class PermissionDeniedError(SegmindError):
    pass


class EndpointNotFoundError(SegmindError):
    pass


class InsufficientCreditsError(SegmindError):
    pass


class RateLimitedError(SegmindError):
    pass


class SegmindServerError(SegmindError):
    pass


class JobFailedError(SegmindError):
    pass


class JobExpiredError(SegmindError):
    pass


class UnexpectedResponseError(SegmindError):
    pass


class TruncatedResponseError(UnexpectedResponseError):
    pass


class ResponseTooLargeError(UnexpectedResponseError):
    pass


class VideoDecodeError(UnexpectedResponseError):
    pass


class ConnectionFailedError(SegmindError):
    """Nothing reached Segmind: safe to run again."""


class OutcomeUnknownError(SegmindError):
    """The request was sent but no answer came back: Segmind may have accepted and billed it."""


class DeadlineExceededError(SegmindError):
    pass


class CancelledError(SegmindError):
    """The caller's cancel check asked to stop waiting."""


class JobNotFoundError(SegmindError):
    """Segmind answers 404 for a job it accepted less than an hour ago: possibly billed, so never re-submitted."""

"""The pack's logger, with a filter that scrubs API keys from every record.

The client never formats a key into a message on purpose; the filter is the second line of defence for text
we do not control (a server echoing the key back in an error body, an exception from a library).
"""

import logging
import threading

LOGGER_NAME = "segmind_motionctrl"
REDACTED = "[redacted API key]"

_secrets = set()
_lock = threading.Lock()


def register_secret(secret):
    """Remember a secret so that redact() and the log filter remove it from any text."""
    if secret and len(secret) >= 4:
        with _lock:
            _secrets.add(secret)


def redact(text):
    if not isinstance(text, str):
        text = str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record):
        # Render once, scrub, and freeze the result so handlers cannot re-format the raw arguments.
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def get_logger():
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())
    return logger


logger = get_logger()

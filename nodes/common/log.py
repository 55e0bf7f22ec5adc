"""The pack's logger, with a filter that scrubs API keys from every record.

The client never formats a key into a message on purpose; the filter is the second line of defence for text
we do not control (a server echoing the key back in an error body, an exception from a library).

Not only the whole key is scrubbed but every run of MIN_RUN or more of its consecutive characters: text we
do not control may hold a key cut short (a quote shortened by someone else), two keys run together, or a key
quoted with its surroundings escaped, and a 12-character piece of a random key is already too much to show.
"""

import logging
import re
import threading

LOGGER_NAME = "segmind_motionctrl"
REDACTED = "[redacted API key]"
# Long enough that ordinary words and numbers never match a random key by chance, short enough that what
# is left visible of a key (at most 11 characters at each end of a scrubbed run) is no use to anyone.
MIN_RUN = 12

_lock = threading.Lock()
_secrets = set()
# Rebuilt on every registration and only ever replaced, never changed, so redact() can read them unlocked.
_short_secrets = ()  # secrets shorter than MIN_RUN: only their whole text is scrubbed
_runs = frozenset()  # every MIN_RUN-character piece of the longer secrets
_runs_pattern = None  # finds the first such piece in a text in one pass (the scan itself runs in C)


def register_secret(secret):
    """Remember a secret so that redact() and the log filter remove it, and every long run of it, from text."""
    global _short_secrets, _runs, _runs_pattern
    if not isinstance(secret, str) or len(secret) < 4:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        runs = {s[i:i + MIN_RUN] for s in _secrets if len(s) >= MIN_RUN for i in range(len(s) - MIN_RUN + 1)}
        _short_secrets = tuple(sorted((s for s in _secrets if len(s) < MIN_RUN), key=len, reverse=True))
        _runs = frozenset(runs)
        _runs_pattern = re.compile("|".join(map(re.escape, sorted(runs)))) if runs else None


def redact(text):
    if not isinstance(text, str):
        text = str(text)
    pattern, runs, short = _runs_pattern, _runs, _short_secrets
    if pattern is not None:
        text = _scrub_runs(text, pattern, runs)
    for secret in short:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_runs(text, pattern, runs):
    """Replace every stretch of text made of overlapping secret pieces with one placeholder."""
    pieces = []
    copied = 0
    found = pattern.search(text)
    while found is not None:
        start = found.start()
        end = start + MIN_RUN
        # Extend while the next window is a piece too; this covers the rest of the key (and a second key
        # pasted right after it) without knowing which secret matched.
        while end < len(text) and text[end - MIN_RUN + 1:end + 1] in runs:
            end += 1
        pieces += [text[copied:start], REDACTED]
        copied = end
        found = pattern.search(text, end)
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


class _RedactingFilter(logging.Filter):
    def filter(self, record):
        # Render once, scrub, and freeze the result so handlers cannot re-format the raw arguments.
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Handlers format the traceback only after the filters ran: render it here, so it is scrubbed too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def get_logger():
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())
    return logger


logger = get_logger()

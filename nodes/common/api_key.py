"""The Segmind API key: where it is found (SEGMIND_API_KEY, then the key files), and the one check that
every value must pass, whichever place it came from (the environment, a key file, the Settings panel).

The check is strict because a value that is not one plain token does not simply fail at Segmind: the HTTP
library refuses it while building the request, and its error text quotes the header value, escaped, where
nothing can recognise the key any more. So a bad value is refused here, before any request exists, with a
message that names its place and what is wrong in general words, and never quotes any part of it. Nothing is
guessed either: a key file holding a comment and a key, or two keys, is refused, not picked apart.
"""

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidApiKeyError, MissingApiKeyError
from .log import register_secret

ENV_VAR = "SEGMIND_API_KEY"
CONSOLE_URL = "https://cloud.segmind.com/console/api-keys"
MIN_LENGTH = 8
MAX_LENGTH = 256
# A key file is one short line; a bigger file is not a key file, and is not read into memory to find out.
MAX_FILE_BYTES = 64 * 1024

_BOM = "\ufeff"
_OUTER_QUOTES = "\"'"
# What pasting a quoted or escaped string brings along; a key is made of none of these.
_SPACE_OR_QUOTE = frozenset(" \t\"'`\\")
# The parts of a refused value that could be a key, registered for redaction in case anything quotes the
# value: long enough, and mixing letters and digits, so that words of a comment line are left alone.
_KEY_LIKE = re.compile(r"[A-Za-z0-9_-]{12,}")


@dataclass(frozen=True)
class KeyPlace:
    """Where a value came from, in the words a message uses, and how to fix a bad value there."""
    name: str
    fix: str


ENV_PLACE = KeyPlace(
    f"the environment variable {ENV_VAR}",
    f"Set {ENV_VAR} to the key alone, copied again from {CONSOLE_URL}, and restart ComfyUI; or unset it to "
    "use the key saved in Settings. Nothing was sent to Segmind.")

PASTED_PLACE = KeyPlace(
    "the key you pasted",
    f"Paste only the key, copied again from {CONSOLE_URL}. Nothing was saved.")


def file_place(path=None):
    """The key file as a place; without a path for answers to other machines, which need not learn it."""
    name = f"the key file {path}" if path is not None else "the pack's key file"
    return KeyPlace(name, f"Put only the key in it, on one line, with no comment or second key (copy it again "
                          f"from {CONSOLE_URL}); or delete the file and paste the key in ComfyUI's Settings > "
                          "Segmind MotionCtrl. Nothing was sent to Segmind.")


def clean_key(raw):
    """Whitespace, a leading byte-order mark and balanced surrounding quotes off (Windows `set KEY="..."`
    keeps the quotes in the value; Notepad starts a UTF-8 file with a BOM)."""
    if raw is None:
        return ""
    key = str(raw).strip()
    while key.startswith(_BOM):
        key = key[len(_BOM):].strip()
    while len(key) >= 2 and key[0] == key[-1] and key[0] in _OUTER_QUOTES:
        key = key[1:-1].strip()
    return key


def check_key(raw, place):
    """The cleaned key, registered for redaction; "" when the place holds nothing; InvalidApiKeyError when
    what it holds cannot be a key."""
    key = clean_key(raw)
    if not key:
        return ""
    problem = _problem(key)
    if problem is not None:
        for part in _KEY_LIKE.findall(key):
            if re.search(r"\d", part) and re.search(r"[A-Za-z]", part):
                register_secret(part)
        raise InvalidApiKeyError(f"Invalid Segmind API key: {place.name} {problem}. {place.fix}")
    register_secret(key)
    return key


def _problem(key):
    """What is wrong with a cleaned value, in general words that reveal nothing of it; None if nothing."""
    if "\n" in key or "\r" in key:
        return "holds more than one line (a comment, a second key or a line break), so it cannot be one key"
    if not key.isascii():
        return ("has a character outside plain ASCII, such as a typographic quote (“ ” ‘ ’) or an invisible "
                "space, which a Segmind key never has")
    if any(ch in _SPACE_OR_QUOTE for ch in key):
        return "contains a space, tab, quote or backslash, which a Segmind key never has"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in key):
        return "contains a control character, which a Segmind key never has"
    if len(key) < MIN_LENGTH:
        return f"is only {len(key)} characters long, too short for a Segmind key (they are about 20)"
    if len(key) > MAX_LENGTH:
        return f"is {len(key)} characters long, too long for a Segmind key (they are about 20)"
    return None


def key_from_env(environ=None):
    env = os.environ if environ is None else environ
    return check_key(env.get(ENV_VAR), ENV_PLACE)


def read_key_file(path, place=None):
    """The key in a key file, checked; "" when there is no such file (or it cannot be read)."""
    place = place or file_place(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        # A missing or unreadable file means "no key there": the missing-key message names the file.
        return ""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidApiKeyError(f"Invalid Segmind API key: {place.name} is larger than {MAX_FILE_BYTES // 1024} "
                                 f"KiB, so it is not a key file. {place.fix}")
    return check_key(_decode(data, place), place)


def _decode(data, place):
    # A BOM says which encoding it is; PowerShell's `echo KEY > file` writes UTF-16 with one.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InvalidApiKeyError(f"Invalid Segmind API key: {place.name} is not plain text (UTF-8 or ASCII), "
                                 f"so it cannot hold a key. {place.fix}") from None


def find_api_key(environ=None, key_files=(), other_places=()):
    """The key from SEGMIND_API_KEY, else from the first key file that holds anything; registered for
    redaction. A bad value is an error, not skipped: the user must learn which place to fix."""
    key = key_from_env(environ)
    for path in key_files:
        if key:
            break
        key = read_key_file(path)
    if not key:
        raise MissingApiKeyError(missing_key_message(key_files, other_places))
    return key


def missing_key_message(key_files=(), other_places=()):
    places = [f"set the environment variable {ENV_VAR} before starting ComfyUI"]
    places += [f"put the key alone in the file {p}" for p in key_files]
    places += list(other_places)
    return ("No Segmind API key found. To fix: " + ", or ".join(places)
            + f". Get a key at {CONSOLE_URL}. Nothing was sent to Segmind.")

"""Settings that come from the environment, never from widgets (so they never land in a saved workflow)."""

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import MissingApiKeyError
from .log import register_secret

DEFAULT_BASE_URL = "https://api.segmind.com"
API_MODES = ("auto", "v2", "v1")
DEFAULT_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_mode: str
    timeout_s: float


def load_settings(environ=None):
    env = os.environ if environ is None else environ
    base_url = (env.get("SEGMIND_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
    mode = (env.get("SEGMIND_API_MODE") or "auto").strip().lower()
    if mode not in API_MODES:
        raise ValueError(f"SEGMIND_API_MODE={mode!r} is not one of {', '.join(API_MODES)}; unset it to use auto.")
    timeout_s = _positive_float(env, "SEGMIND_TIMEOUT", DEFAULT_TIMEOUT_S)
    return Settings(base_url=base_url, api_mode=mode, timeout_s=timeout_s)


def _positive_float(env, name, default):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{name}={raw!r} must be a positive number of seconds; unset it for {default:g}.")
    return value


def clean_key(raw):
    """Strip whitespace and surrounding quotes: Windows `set KEY="..."` keeps the quotes in the value."""
    if raw is None:
        return ""
    key = raw.strip()
    while len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        key = key[1:-1].strip()
    return key


def read_key_file(path):
    try:
        return clean_key(Path(path).read_text(encoding="utf-8-sig"))
    except (FileNotFoundError, NotADirectoryError):
        return ""
    except OSError:
        # An unreadable key file is reported as "no key" with its path, below; not a crash at start-up.
        return ""


def find_api_key(environ=None, key_files=(), other_places=()):
    """The key from SEGMIND_API_KEY, else from the first key file that holds one; registered for redaction."""
    env = os.environ if environ is None else environ
    key = clean_key(env.get("SEGMIND_API_KEY"))
    for path in key_files:
        if key:
            break
        key = read_key_file(path)
    if not key:
        raise MissingApiKeyError(missing_key_message(key_files, other_places))
    register_secret(key)
    return key


def missing_key_message(key_files=(), other_places=()):
    places = ["set the environment variable SEGMIND_API_KEY before starting ComfyUI"]
    places += [f"put the key alone in the file {p}" for p in key_files]
    places += list(other_places)
    return ("No Segmind API key found. To fix: " + ", or ".join(places)
            + ". Get a key at https://cloud.segmind.com/console/api-keys. Nothing was sent to Segmind.")

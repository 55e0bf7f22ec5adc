"""Settings that come from the environment, never from widgets (so they never land in a saved workflow)."""

import os
from dataclasses import dataclass

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

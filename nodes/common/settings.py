"""Every setting of the pack, in one table: name, type, range, default and plain-words help.

Settings come from the environment (or, for the spend limits, from the Settings panel, stored server-side
next to the key file), never from widgets, so they never land in a saved workflow. An environment variable,
when set, wins. Every value is checked here, with an error that names the setting, its allowed range and
how to fix it: `SEGMIND_TIMEOUT=inf` must not remove the time limit, `abc` must not crash a run.
The README's settings table is checked against this one (tests/test_packaging.py).
"""

import math
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import SegmindError
from ..segmind.contract import DEFAULT_BASE_URL, JOB_RETENTION_S


class SettingError(SegmindError, ValueError):
    """A setting with a value the pack cannot use; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    attr: str  # the field of Settings
    kind: str  # "url", "choice", "seconds", "int", "dollars"
    default: object
    help: str
    minimum: float = None
    maximum: float = None
    choices: tuple = ()
    editable: bool = False  # can be set in ComfyUI's Settings panel (stored server-side)

    def allowed(self):
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "url":
            return "an http(s) address such as https://api.segmind.com"
        noun = "a whole number" if self.kind == "int" else "a number"
        unit = {"seconds": " seconds", "dollars": " (US dollars)"}.get(self.kind, "")
        return f"{noun} from {_num(self.minimum)} to {_num(self.maximum)}{unit}"

    def default_text(self):
        return "unset" if self.default is None else _num(self.default) if not isinstance(self.default, str) \
            else self.default


SETTINGS = (
    Setting("SEGMIND_BASE_URL", "base_url", "url", DEFAULT_BASE_URL,
            "The API's address (tests point it at a fake server)."),
    Setting("SEGMIND_API_MODE", "api_mode", "choice", "auto",
            "auto: Segmind's asynchronous v2 API, falling back to v1 only if v2 is missing (404/405, nothing "
            "billed); v2; v1 (one long synchronous request).", choices=("auto", "v2", "v1")),
    Setting("SEGMIND_TIMEOUT", "timeout_s", "seconds", 900.0,
            "How long to wait for one job before giving up (a v2 job can still be collected later, within "
            "Segmind's hour).", minimum=10, maximum=JOB_RETENTION_S),
    Setting("SEGMIND_CONCURRENCY", "concurrency", "int", 4,
            "How many calls run at once, across every node of ComfyUI (Segmind's free plan allows 5 calls a "
            "minute; with ~60 s calls, 4 stays under it).", minimum=1, maximum=8),
    Setting("SEGMIND_CACHE_DIR", "cache_dir", "path", None,
            "Where finished videos (and the records of running jobs) are kept. Default: "
            "ComfyUI/user/segmind_motionctrl/cache."),
    Setting("SEGMIND_API_KEY_FILE", "key_file", "path", None,
            "Where the key file is. Default: ComfyUI/user/segmind_motionctrl/api_key.txt."),
    Setting("SEGMIND_MAX_CALLS_PER_RUN", "max_calls_per_run", "int", 16,
            "The most paid calls one queued run may make, across all of the pack's nodes (cached and resumed "
            "calls do not count). 0 = no limit.", minimum=0, maximum=10000, editable=True),
    Setting("SEGMIND_DAILY_BUDGET", "daily_budget", "dollars", None,
            "The most the pack may spend per local calendar day, counted from the usage ledger with the costs "
            "Segmind reported (and calls that may have been billed). Unset = no limit.", minimum=0,
            maximum=100000, editable=True),
)
BY_NAME = {s.name: s for s in SETTINGS}
BY_ATTR = {s.attr: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_mode: str
    timeout_s: float
    concurrency: int
    cache_dir: str  # None: the default place (paths.py)
    key_file: str  # None: the default place (paths.py)
    max_calls_per_run: int
    daily_budget: float  # None: no budget
    sources: dict = field(default_factory=dict)  # attr -> "env", "settings" or "default"


def load_settings(environ=None, stored=None):
    """Every setting, checked. `stored` holds the values saved from the Settings panel ({attr: value})."""
    env = os.environ if environ is None else environ
    stored = stored or {}
    values, sources = {}, {}
    for setting in SETTINGS:
        raw = env.get(setting.name)
        if raw is not None and str(raw).strip() != "":
            values[setting.attr] = parse(setting, raw, origin="env")
            sources[setting.attr] = "env"
        elif setting.editable and stored.get(setting.attr) is not None:
            values[setting.attr] = parse(setting, stored[setting.attr], origin="settings")
            sources[setting.attr] = "settings"
        else:
            values[setting.attr] = setting.default
            sources[setting.attr] = "default"
    return Settings(**values, sources=sources)


def parse(setting, raw, origin="env"):
    """A setting's value from text (the environment) or JSON (the Settings panel), or a SettingError."""
    where = (f"The environment variable {setting.name}" if origin == "env"
             else f"The setting {setting.name} (Settings > Segmind MotionCtrl)")
    fix = (f"unset it to use the default ({setting.default_text()})" if origin == "env"
           else "change it in Settings > Segmind MotionCtrl, or clear it to use the default")
    text = str(raw).strip()
    if setting.kind == "choice":
        value = text.lower()
        if value not in setting.choices:
            raise SettingError(f"{where} is {_shown(text)}, but it must be {setting.allowed()}; {fix}.")
        return value
    if setting.kind == "path":
        return text
    if setting.kind == "url":
        try:
            parts = urlsplit(text)
            parts.port  # a bad port or bracket raises here, not later inside a paid call
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError(f"{where} is not {setting.allowed()}; {fix}.")
        return text.rstrip("/")
    number = _number(raw)
    if number is None or not math.isfinite(number):
        raise SettingError(f"{where} is {_shown(text)}, which is not {setting.allowed()}; {fix}.")
    if setting.kind == "int" and not float(number).is_integer():
        raise SettingError(f"{where} is {_shown(text)}, but it must be {setting.allowed()}; {fix}.")
    if not setting.minimum <= number <= setting.maximum:
        raise SettingError(f"{where} is {_shown(text)}, but it must be {setting.allowed()}; {fix}.")
    return int(number) if setting.kind == "int" else float(number)


def _number(raw):
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        return float(str(raw).strip())
    except ValueError:
        return None


def _shown(text):
    # Settings are not secrets, but a key pasted into the wrong variable would be: long values are not quoted.
    clean = "".join(ch for ch in text if ch.isprintable())
    return repr(clean) if len(clean) <= 16 else f"a {len(text)}-character value"


def _num(value):
    return str(int(value)) if float(value).is_integer() else str(value)

"""Where the key file and the result cache live: outside the pack folder, so updating the pack keeps them."""

import os
import sys
from pathlib import Path

from ..comfy_bridge import user_dir
from .settings import BY_ATTR

PACK_DIR_NAME = "segmind_motionctrl"
KEY_FILE_NAME = "api_key.txt"


def _platform_dir(kind):
    """The platform's per-user config or cache folder, for runs outside ComfyUI."""
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA" if kind == "cache" else "APPDATA") or home / "AppData" / "Local"
        return Path(base) / PACK_DIR_NAME / ("Cache" if kind == "cache" else "")
    if sys.platform == "darwin":
        sub = "Caches" if kind == "cache" else "Application Support"
        return home / "Library" / sub / PACK_DIR_NAME
    xdg = os.environ.get("XDG_CACHE_HOME" if kind == "cache" else "XDG_CONFIG_HOME")
    return Path(xdg or home / (".cache" if kind == "cache" else ".config")) / PACK_DIR_NAME


def pack_user_dir():
    """<ComfyUI>/user/segmind_motionctrl: beside, not inside, user/default (which ComfyUI serves over HTTP)."""
    comfy_user = user_dir()
    return comfy_user / PACK_DIR_NAME if comfy_user is not None else _platform_dir("config")


def key_file():
    override = os.environ.get(BY_ATTR["key_file"].name, "").strip()
    return Path(override) if override else pack_user_dir() / KEY_FILE_NAME


def cache_dir():
    override = os.environ.get(BY_ATTR["cache_dir"].name, "").strip()
    if override:
        return Path(override)
    comfy_user = user_dir()
    return comfy_user / PACK_DIR_NAME / "cache" if comfy_user is not None else _platform_dir("cache")


def settings_file():
    """The limits set in ComfyUI's Settings panel, kept server-side beside the key file (not in
    comfy.settings.json, which any browser that reaches ComfyUI can rewrite)."""
    return pack_user_dir() / "settings.json"


def ledger_file():
    return pack_user_dir() / "usage.jsonl"

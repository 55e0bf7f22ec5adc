"""The settings saved from ComfyUI's Settings panel (the spend limits), in one small JSON file server-side.

Only the settings marked editable in settings.py are kept; an environment variable, when set, still wins.
A damaged file is reported in the log and ignored (the defaults apply), never fatal to a run.
"""

import json
import os
import tempfile
from pathlib import Path

from .log import logger
from .settings import BY_ATTR, parse


def read_stored(path):
    """{attr: value} of the editable settings in the file; {} when there is none or it is damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("The saved Segmind MotionCtrl settings in %s could not be read (%s); using the defaults.",
                       path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in BY_ATTR and BY_ATTR[k].editable and v is not None}


def update_stored(path, changes):
    """Apply {attr: value or None} (None clears it), each checked; returns the new stored values.

    Raises the setting's SettingError (naming it and its range) before anything is written."""
    current = read_stored(path)
    for attr, value in changes.items():
        setting = BY_ATTR[attr]
        if value is None or (isinstance(value, str) and not value.strip()):
            current.pop(attr, None)
        else:
            current[attr] = parse(setting, value, origin="settings")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(current, handle, indent=1, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return current

"""The sequence nodes' `motions` text: a list of camera moves, one clip each.

    Pan Left 1.5, Zoom In
    CW 0.5

One segment per line or comma-separated item, `<motion> [speed]`: the motion names of the single node
(case-insensitive; runs of spaces count as one), the speed a plain decimal from 0 to 10 (default 1), 1 to 8 segments. Anything else
is an error naming the bad item and the allowed names, raised before anything is sent. The frontend parses
with the same rules (js/lib/motions.js) to show the cost before a run.
"""

import math
import re
from dataclasses import dataclass

from ..common.errors import SegmindError
from .poses import MOTIONS

MAX_SEGMENTS = 8
MAX_SPEED = 10.0
DEFAULT_SPEED = 1.0
# From this segment on, each continuation visibly drifts (SVD's VAE round trip, compounding).
DRIFT_FROM_SEGMENT = 5

_NAMES = {m.lower(): m for m in MOTIONS}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Segment:
    motion: str
    speed: float


class InvalidMotionsError(SegmindError, ValueError):
    def __init__(self, problem):
        self.name = "motions"
        super().__init__(f"Invalid motions: {problem} Write one camera move per line or between commas, "
                                 f"as `<motion> [speed]`, e.g. `Pan Left 1.5, Zoom In`; motions: "
                                 f"{', '.join(MOTIONS)}; speed 0 to {MAX_SPEED:g} (default {DEFAULT_SPEED:g}); 1 to "
                                 f"{MAX_SEGMENTS} moves. Nothing was sent to Segmind.")


def parse_motions(text):
    """[Segment] from the motions text, or InvalidMotionsError."""
    if not isinstance(text, str):
        raise InvalidMotionsError(f"expected text, got {type(text).__name__}.")
    items = [item.strip() for item in re.split(r"[,\n\r]", text)]
    items = [item for item in items if item]
    if not items:
        raise InvalidMotionsError("the text is empty.")
    if len(items) > MAX_SEGMENTS:
        raise InvalidMotionsError(f"{len(items)} moves, but at most {MAX_SEGMENTS} are allowed (each is a paid call "
                                  "per image, and quality drifts with every continuation).")
    return [_segment(number, item) for number, item in enumerate(items, 1)]


def _segment(number, item):
    words = item.split()  # runs of spaces and tabs count as one
    speed = DEFAULT_SPEED
    if len(words) > 1 and _NUMBER.match(words[-1]):
        speed = float(words[-1])
        words = words[:-1]
        if not (math.isfinite(speed) and 0.0 <= speed <= MAX_SPEED):
            raise InvalidMotionsError(f"move {number} ({_shown(item)}) has speed {speed:g}, outside 0 to "
                                      f"{MAX_SPEED:g}.")
    motion = _NAMES.get(" ".join(words).lower())
    if motion is None:
        raise InvalidMotionsError(f"move {number} ({_shown(item)}) is not a camera motion.")
    return Segment(motion, speed + 0.0)


def _shown(item):
    return repr(item if len(item) <= 40 else item[:39] + "…")


def segment_count(text):
    """How many paid calls per image the text asks for (None when it does not parse): the cost rule."""
    try:
        return len(parse_motions(text))
    except InvalidMotionsError:
        return None

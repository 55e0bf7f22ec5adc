"""MotionCtrl-SVD's parameters: names, ranges, defaults and plain-words help, in one place.

The node's widgets, the client's validation, the fake server and the README table are all built from this
list, so a range can never disagree between them. Order = the node's widget order (pinned: saved workflows
store widget values by position).
"""

import math
import numbers
from dataclasses import dataclass

from ..camera.poses import MOTIONS
from .errors import InvalidParameterError

SEED_MAX = 4294967295


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "float", "bool" or "choice"
    default: object
    help: str
    minimum: float = None
    maximum: float = None
    step: float = None
    choices: tuple = ()

    def allowed(self):
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        return f"{noun} from {_num(self.minimum)} to {_num(self.maximum)}"


def _num(value):
    return str(int(value)) if float(value).is_integer() else str(value)


PARAMS = (
    Param("motion", "choice", "CW", choices=MOTIONS, help=(
        "The camera move. Pan Left slides the picture to the right (the camera moves left), Pan Up slides it "
        "down; Zoom In moves the camera forward so things grow; CW / ACW roll the camera, so the picture "
        "turns the other way round. Try it free with the MotionCtrl Camera Preview node.")),
    Param("motion_speed", "float", 1.0, minimum=0.0, maximum=10.0, step=0.1, help=(
        "How far the camera travels over the clip: 2 moves twice as far as 1; 0 asks for a still camera "
        "(the model still drifts a little).")),
    Param("fps", "int", 7, minimum=5, maximum=30, step=1, help=(
        "Frames per second of the returned clip (always 14 frames). The model also uses it as a hint: a low fps "
        "asks for bigger changes between frames, a high fps for smaller ones.")),
    Param("motion_bucket_id", "int", 127, minimum=127, maximum=255, step=1, help=(
        "How much the scene itself moves (besides the camera): higher = more motion, and more risk of "
        "warping.")),
    Param("cond_aug", "float", 0.02, minimum=0.0, maximum=1.0, step=0.01, help=(
        "Noise added to your image before animating: higher = looser likeness to the input and more motion. "
        "Keep it low (0.02) to stay faithful.")),
    Param("seed", "int", 985445, minimum=0, maximum=SEED_MAX, step=1, help=(
        "Same image + same settings + same seed = the same video, served from the cache for free. Keep the "
        "control after generate on 'fixed': 'randomize' makes every queue a new paid call.")),
    Param("decoding_t", "int", 1, minimum=1, maximum=14, step=1, help=(
        "How many frames the decoder turns into pixels at once: higher can be slightly smoother from frame "
        "to frame, lower uses less GPU memory on Segmind's side. Does not change the cost.")),
    Param("maintain_aspect_ratio", "bool", True, help=(
        "On: keep your image's shape (landscape and square images come back 1024 wide, portrait ones 576 tall, "
        "sides rounded down to multiples of 64). Off: center-crop to the model's 16:9 frame, 1024x576.")),
)

PARAMS_BY_NAME = {p.name: p for p in PARAMS}
DEFAULTS = {p.name: p.default for p in PARAMS}


def validate_params(values):
    """Check every parameter and return them typed as the API wants them on the wire.

    Missing ones take their defaults; unknown names are an error (a typo would otherwise be silently ignored).
    """
    unknown = sorted(set(values) - set(PARAMS_BY_NAME))
    if unknown:
        raise InvalidParameterError(unknown[0], values[unknown[0]], "one of " + ", ".join(PARAMS_BY_NAME))
    return {p.name: _coerce(p, values.get(p.name, p.default)) for p in PARAMS}


def _coerce(param, value):
    if param.kind == "choice":
        if value not in param.choices:
            raise InvalidParameterError(param.name, value, param.allowed())
        return value
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidParameterError(param.name, value, param.allowed())
        return value
    number = _as_number(param, value)
    if not param.minimum <= number <= param.maximum:
        raise InvalidParameterError(param.name, value, param.allowed())
    return number


def _as_number(param, value):
    # bool is an int subclass in Python, but True is not a frame rate.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidParameterError(param.name, value, param.allowed())
    if param.kind == "int":
        if float(value) != int(value):
            raise InvalidParameterError(param.name, value, param.allowed())
        return int(value)
    return float(value) + 0.0  # -0.0 becomes 0.0: the same request must make the same cache key

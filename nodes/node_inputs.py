"""The widgets both nodes share, built from the parameter table (names, order, ranges, defaults: pinned)."""

from .common.params import PARAMS

IMAGE_TOOLTIP = ("The still image to animate. Each image of a batch becomes its own 14-frame clip (one paid call "
                 "each for the Segmind node). Large images are downscaled before upload; the model works at "
                 "1024x576.")


def _widget(param):
    options = {"default": param.default, "tooltip": param.help}
    if param.kind == "choice":
        return (list(param.choices), options)
    if param.kind == "bool":
        options.update(label_on="keep aspect", label_off="crop to 16:9")
        return ("BOOLEAN", options)
    options.update(min=param.minimum, max=param.maximum, step=param.step)
    if param.kind == "int":
        options.update(min=int(param.minimum), max=int(param.maximum), step=int(param.step))
        if param.name == "seed":
            # ComfyUI adds its "control after generate" to any INT named seed; the pack's JS sets it to fixed.
            options["control_after_generate"] = True
        return ("INT", options)
    options["round"] = param.step
    return ("FLOAT", options)


def input_types():
    required = {"image": ("IMAGE", {"tooltip": IMAGE_TOOLTIP})}
    required.update((p.name, _widget(p)) for p in PARAMS)
    return {"required": required, "hidden": {"unique_id": "UNIQUE_ID"}}


MOTIONS_TOOLTIP = (
    "The camera moves, one clip each, each continuing from the last frame of the one before: one per line or "
    "between commas, as `<motion> [speed]`, e.g. `Pan Left 1.5, Zoom In`. Motions: Pan Up, Pan Down, Pan Right, "
    "Pan Left, Zoom In, Zoom Out, CW, ACW (any case); speed 0 to 10, default 1; 1 to 8 moves. N moves give "
    "14 + 13 x (N - 1) frames, and cost N calls per image on the Segmind node. Quality drifts a little with "
    "every continuation: past 4 moves it shows.")
COLOR_MATCH_TOOLTIP = (
    "On: match each later clip's colours to the sequence so far (SVD shifts colours a little with every clip, "
    "so joins would jump). Off: the frames exactly as Segmind returned them.")
SEQUENCE_OMITS = ("motion", "motion_speed")


def sequence_input_types():
    """The sequence nodes' inputs: image, motions, the single node's other widgets (same names, ranges and
    defaults), then color_match. Pinned order."""
    required = {"image": ("IMAGE", {"tooltip": IMAGE_TOOLTIP}),
                "motions": ("STRING", {"multiline": True, "default": "Pan Left\nZoom In", "tooltip": MOTIONS_TOOLTIP})}
    required.update((p.name, _widget(p)) for p in PARAMS if p.name not in SEQUENCE_OMITS)
    required["color_match"] = ("BOOLEAN", {"default": True, "tooltip": COLOR_MATCH_TOOLTIP,
                                           "label_on": "match colours", "label_off": "as returned"})
    return {"required": required, "hidden": {"unique_id": "UNIQUE_ID"}}


def params_from(kwargs):
    return {p.name: kwargs[p.name] for p in PARAMS if p.name in kwargs}


RETURN_TYPES = ("IMAGE", "FLOAT", "VIDEO")
RETURN_NAMES = ("frames", "fps", "video")
OUTPUT_TOOLTIPS = (
    "The clip's frames as an IMAGE batch: 14 per input image, in input order.",
    "The frames per second you asked for: wire it into Video Combine or Create Video.",
    "The clip as ComfyUI's VIDEO, for Save Video or Get Video Components (saved without re-encoding).",
)


class MotionCtrlNodeBase:
    """What all the pack's nodes share, so the previews and the paid nodes stay swappable in a graph."""

    CATEGORY = "Segmind/video"
    # An output node can run alone and show its clip; the result cache keeps re-queues free.
    OUTPUT_NODE = True
    RETURN_TYPES = RETURN_TYPES
    RETURN_NAMES = RETURN_NAMES
    OUTPUT_TOOLTIPS = OUTPUT_TOOLTIPS

    @classmethod
    def INPUT_TYPES(cls):
        return input_types()


class MotionCtrlSequenceBase(MotionCtrlNodeBase):
    """What both sequence nodes share (the paid one and its free preview): the same inputs and outputs."""

    @classmethod
    def INPUT_TYPES(cls):
        return sequence_input_types()

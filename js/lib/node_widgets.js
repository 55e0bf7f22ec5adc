// Reading and setting the pack's widgets on a LiteGraph node, written against plain objects so it runs under
// Node's test runner too. Pure module.

export const PAID_NODE = "SegmindMotionCtrlSVD";
export const PAID_SEQUENCE_NODE = "SegmindMotionCtrlSequence";
export const PREVIEW_NODE = "MotionCtrlCameraPreview";
export const PREVIEW_SEQUENCE_NODE = "MotionCtrlCameraPreviewSequence";
export const NODE_TYPES = new Set([PAID_NODE, PREVIEW_NODE, PAID_SEQUENCE_NODE, PREVIEW_SEQUENCE_NODE]);
const PAID_NODES = new Set([PAID_NODE, PAID_SEQUENCE_NODE]);
const SEQUENCE_NODES = new Set([PAID_SEQUENCE_NODE, PREVIEW_SEQUENCE_NODE]);
// The parameters that decide a result (nodes/common/params.py, plus the sequence nodes' `motions` and
// `color_match`); the seed's control widget is not one of them.
export const PARAM_NAMES = ["motion", "motion_speed", "motions", "fps", "motion_bucket_id", "cond_aug", "seed",
  "decoding_t", "maintain_aspect_ratio", "color_match"];

/** The paid nodes make Segmind calls; the previews are local and free. */
export function isPaid(type) {
  return PAID_NODES.has(type);
}

export function isSequence(type) {
  return SEQUENCE_NODES.has(type);
}
const CONTROL_NAME = "control_after_generate";

function widgets(node) {
  return Array.isArray(node?.widgets) ? node.widgets : [];
}

export function widgetValue(node, name) {
  return widgets(node).find((w) => w?.name === name)?.value;
}

/** {name: value} for the parameters present on the node. */
export function paramValues(node) {
  const values = {};
  for (const name of PARAM_NAMES) {
    const widget = widgets(node).find((w) => w?.name === name);
    if (widget) values[name] = widget.value;
  }
  return values;
}

/** The "control after generate" combo ComfyUI adds next to the seed, or null. */
export function seedControlWidget(node) {
  const seed = widgets(node).find((w) => w?.name === "seed");
  const linked = seed?.linkedWidgets?.find((w) => Array.isArray(w?.options?.values) && w.options.values.includes("fixed"));
  return linked ?? widgets(node).find((w) => w?.name === CONTROL_NAME) ?? null;
}

/**
 * Set the seed control to "fixed" on a node just created. Called from onNodeCreated, which runs before a loaded
 * workflow's widgets_values are applied (LGraphNode.configure), so a saved choice still wins.
 */
export function applyFixedSeedDefault(node) {
  const control = seedControlWidget(node);
  if (!control || control.value === "fixed") return false;
  control.value = "fixed";
  return true;
}

// The motions box keeps room for this many lines. Its frontend minimum is about two lines, so in the classic
// canvas a run's image preview squeezes a three-move sequence down to "Pan Left / Zoom In / CW 0.…".
export const MOTIONS_MIN_LINES = 4;
const MOTIONS_LINE_PX = 15;
const MOTIONS_PADDING_PX = 12;

/**
 * Give a sequence node's `motions` box a minimum height, where the frontend asks the DOM widget for one
 * (options.getMinHeight; frontends without it ignore the option). Returns the height set, or null.
 */
export function reserveMotionsRoom(node) {
  if (!isSequence(node?.comfyClass ?? node?.type)) return null;
  const widget = widgets(node).find((w) => w?.name === "motions");
  if (!widget || typeof widget.options !== "object" || widget.options === null) return null;
  const height = MOTIONS_MIN_LINES * MOTIONS_LINE_PX + MOTIONS_PADDING_PX;
  const own = widget.options.getMinHeight;
  widget.options.getMinHeight = () => Math.max(height, typeof own === "function" ? Number(own()) || 0 : 0);
  return height;
}

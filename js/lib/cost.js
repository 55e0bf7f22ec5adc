// What the next run of a node will cost, in the words shown on the node. Pure module (no DOM, no ComfyUI).
// The figures mirror nodes/generation.py (COST_PER_CALL, EXPECTED_SECONDS): Segmind's quoted price and time.

export const COST_PER_CALL = 0.089;
export const EXPECTED_SECONDS = 60;
// Seed controls that change the seed on every queue: every run is then a new, billed call.
const BILLING_CONTROLS = new Set(["randomize", "increment", "decrement"]);

function wholeImages(images) {
  const n = Math.floor(Number(images));
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/** Dollars for a batch of `images` uncached images (one call each). */
export function estimateCost(images = 1, perCall = COST_PER_CALL) {
  return Math.round(wholeImages(images) * perCall * 1000) / 1000;
}

/** "$0.089", "$0.534", "$1.78", "$0": cents and a bit below a dollar, cents above. */
export function formatUsd(amount) {
  const value = Number(amount);
  if (!Number.isFinite(value) || value <= 0) return "$0";
  if (value < 1) return `$${value.toFixed(3)}`;
  return `$${value.toFixed(2)}`;
}

/** The node's cost line; `images` is known only after a run (the batch comes from upstream nodes). */
export function costLine({ images = null } = {}) {
  const time = `~${EXPECTED_SECONDS} s`;
  if (images === null || images === undefined) return `≈ ${formatUsd(COST_PER_CALL)} per image · ${time}`;
  const n = wholeImages(images);
  if (n === 1) return `≈ ${formatUsd(COST_PER_CALL)} per run · ${time}`;
  return `≈ ${formatUsd(estimateCost(n))} for ${n} images · ${time} each`;
}

/** The sequence nodes' cost line: one call per segment and image, the batch still unknown. */
export function sequenceCostLine(segments) {
  const n = wholeImages(segments);
  if (n === 1) return costLine();
  return `≈ ${n} × ${formatUsd(COST_PER_CALL)} per image (${formatUsd(estimateCost(n))}) · ~${EXPECTED_SECONDS} s each`;
}

/** The line shown instead of a cost while the motions text does not parse: the pack refuses before paying. */
export function unparsedCostLine() {
  return "$0 until the motions parse (nothing is sent)";
}

/**
 * A warning when the per-run call limit (GET /segmind_motionctrl/usage, limits.max_calls_per_run) would stop
 * this node's run before paying, else null. `calls` is what the widgets show (segments x 1 image).
 */
export function limitWarning(calls, limit) {
  const n = Number(calls);
  const max = typeof limit === "number" ? limit : Number.NaN;
  if (!Number.isFinite(n) || !Number.isFinite(max) || n <= max) return null;
  return `this run would be refused: ${n} calls > limit ${max} (Settings → Segmind MotionCtrl)`;
}

export function previewCostLine() {
  return "free · local (no API call)";
}

export function seedControlBills(control) {
  return BILLING_CONTROLS.has(String(control));
}

/** A warning when the seed control makes every queue a new paid call, else null. */
export function seedWarning(control) {
  return seedControlBills(control) ? `seed '${control}': every queue is a new paid call` : null;
}

/**
 * Whether the widgets equal those of the last finished run. Then the pack's cache (keyed on image + settings)
 * serves the same image for free; the frontend cannot see the image, hence "if the image is unchanged".
 */
export function sameSettings(current, last) {
  if (!current || !last) return false;
  const names = Object.keys(last);
  if (names.length === 0 || names.length !== Object.keys(current).length) return false;
  return names.every((name) => Object.is(current[name], last[name]));
}

export function cachedLine() {
  return "≈ $0 if the image is unchanged (cached)";
}

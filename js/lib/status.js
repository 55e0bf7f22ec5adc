// The node's status line (Python: motionctrl_node.status_line, preview_node), read back for display.
// Pure module. The Python text is the source of truth: anything not understood is shown as sent.

/** The status text from an `executed` message (the node's `ui` dict), or null. */
export function statusFromMessage(message) {
  const value = message?.segmind_status;
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text.trim() ? text.trim() : null;
}

function numberAfter(text, pattern) {
  const match = text.match(pattern);
  return match ? Number(match[1]) : null;
}

/**
 * "Segmind: 3 clips in 70 s, ~$0.178, 1 from cache, credits left 5.00" ->
 * { clips: 3, seconds: 70, cost: 0.178, approx: true, fromCache: false, cachedClips: 1, credits: 5 }.
 */
export function parseStatus(text) {
  if (typeof text !== "string") return null;
  const clips = numberAfter(text, /(\d+) clips?\b/);
  const seconds = numberAfter(text, /\bin (\d+(?:\.\d+)?) s\b/);
  if (clips === null || seconds === null) return null;
  const fromCache = /from cache, \$0\b/.test(text);
  const cost = fromCache ? 0 : numberAfter(text, /~?\$(\d+(?:\.\d+)?)/);
  return {
    clips,
    seconds,
    cost,
    approx: /~\$/.test(text),
    fromCache,
    cachedClips: fromCache ? clips : numberAfter(text, /(\d+) from cache/) ?? 0,
    credits: numberAfter(text, /credits left (-?\d+(?:\.\d+)?)/),
  };
}

/** "Local preview (not a MotionCtrl video): 14 frames in 2.1 s, free" -> { frames: 14, seconds: 2.1 }, or null. */
export function parsePreviewStatus(text) {
  if (typeof text !== "string" || !/^Local preview/.test(text)) return null;
  const match = text.match(/(\d+) frames in (\d+(?:\.\d+)?) s\b/);
  return match ? { frames: Number(match[1]), seconds: Number(match[2]) } : null;
}

/** A compact "last run" line for the node; falls back to the raw text. */
export function lastRunLine(text) {
  const preview = parsePreviewStatus(text);
  if (preview) return `last: ${preview.frames} frames · ${preview.seconds} s · local preview, free`;
  const parsed = parseStatus(text);
  if (!parsed || /^Local preview/.test(text)) return text ? `last: ${text.replace(/^Segmind: /, "")}` : null;
  const parts = [`${parsed.clips} clip${parsed.clips === 1 ? "" : "s"}`, `${Math.round(parsed.seconds)} s`];
  if (parsed.fromCache) parts.push("cached, $0");
  else if (parsed.cost !== null) parts.push(`${parsed.approx ? "~" : ""}$${parsed.cost.toFixed(3)}`);
  if (!parsed.fromCache && parsed.cachedClips) parts.push(`${parsed.cachedClips} cached`);
  if (parsed.credits !== null) parts.push(`${parsed.credits.toFixed(2)} credits left`);
  return `last: ${parts.join(" · ")}`;
}

// What a node's last (or current) run ended as, from the pack's own status event and, when that did not come,
// from ComfyUI's core events. Pure module: every end state and every fallback is a function of plain data.
//
// The pack's event `segmind_motionctrl.status`: {node, state, text, prompt_id}, state one of STATES. It covers
// each node, so it always wins. The core events are fallbacks: `execution_interrupted` names ONE node even when
// several async nodes were waiting; `execution_error` names the node that raised.

export const STATES = ["running", "done", "cancelled", "failed", "kept"];
const END_STATES = new Set(["done", "cancelled", "failed", "kept"]);
const MAX_REASON = 80;

/** A run state: { state, text, promptId, source: "pack" | "core" }, or null before any run. */
function runState(state, text, promptId, source) {
  return { state, text: typeof text === "string" && text.trim() ? text.trim() : null, promptId: promptId ?? null, source };
}

/**
 * Whether an event's node id means this node. Ids are strings like "7", or execution paths "12:7" for a node
 * inside a subgraph (matched on the last element). `inSubgraph` (true/false, or undefined when unknown) keeps a
 * root node 7 from taking the events of a nested node 12:7 and the other way round.
 */
export function matchesNode(eventId, nodeId, inSubgraph) {
  if (eventId === null || eventId === undefined || nodeId === null || nodeId === undefined) return false;
  const id = String(eventId);
  const own = String(nodeId);
  if (!id) return false;
  if (!id.includes(":")) return inSubgraph !== true && id === own;
  return inSubgraph !== false && id.split(":").pop() === own;
}

/** One short line from an exception message: first line, no "XxxError:" prefix, first sentence, <= 80 chars. */
export function shortReason(message, max = MAX_REASON) {
  const lines = String(message ?? "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  let text = (lines[0] ?? "").replace(/^(?:[A-Za-z_][\w.]*(?:Error|Exception)|Exception):\s*/, "");
  const sentence = text.match(/^(.{20,}?[.!?])\s/);
  if (sentence) text = sentence[1];
  if (!text) return "unknown error (see the ComfyUI console)";
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** The words for an end state the pack did not describe itself. */
export function fallbackText(kind, { paid = false, reason = "" } = {}) {
  switch (kind) {
    case "cancelled":
      return paid ? "cancelled — anything already paid for is kept; running again uses it" : "cancelled";
    case "stopped":
      return paid ? "stopped: another node failed; anything already paid for is kept" : "stopped: another node failed";
    case "failed":
      return `failed: ${shortReason(reason)}`;
    case "running":
      return "running…";
    default:
      return null;
  }
}

function sameRun(prev, promptId) {
  return Boolean(prev) && prev.promptId !== null && promptId !== null && promptId !== undefined && prev.promptId === promptId;
}

/**
 * The next state after the pack's `segmind_motionctrl.status` event for this node. Invalid events change nothing.
 * While a newer prompt is running on the node, end states of an older prompt are ignored (they would hide it).
 */
export function applyPackEvent(prev, detail) {
  const state = detail?.state;
  if (!STATES.includes(state)) return prev;
  const promptId = detail.prompt_id ?? null;
  const olderRun = prev?.state === "running" && prev.promptId && promptId && prev.promptId !== promptId;
  if (olderRun && state !== "running") return prev;
  const text = typeof detail.text === "string" ? detail.text : null;
  return runState(state, text, promptId, "pack");
}

/**
 * The next state after a core event, only where the pack's event has not already said how this run ended.
 * kind: "start" (ComfyUI began executing this node), "executed" (its output arrived; `status` = the status
 * line), "interrupted" / "error" (`own`: the event names this node; `reason`: the exception message),
 * "success" (the prompt finished).
 */
export function applyCoreEvent(prev, kind, { promptId = null, own = false, paid = false, reason = "", status = null } = {}) {
  const packEnded = prev?.source === "pack" && sameRun(prev, promptId) && END_STATES.has(prev.state);
  if (packEnded) return prev;
  const runningHere = prev?.state === "running" && (sameRun(prev, promptId) || prev.promptId === null || !promptId);
  switch (kind) {
    case "start":
      if (prev?.state === "running" && sameRun(prev, promptId)) return prev;
      return runState("running", null, promptId, "core");
    case "executed":
      return runState("done", status, promptId ?? prev?.promptId, "core");
    case "interrupted":
      if (!own && !runningHere) return prev;
      return runState("cancelled", fallbackText("cancelled", { paid }), promptId, "core");
    case "error":
      if (own) return runState("failed", fallbackText("failed", { reason }), promptId, "core");
      if (!runningHere) return prev;
      return runState("cancelled", fallbackText("stopped", { paid }), promptId, "core");
    case "success":
      if (!runningHere) return prev;
      return runState("done", null, promptId, "core");
    default:
      return prev;
  }
}

/** The status text to remember as "last run" (for the last-run line and the $0 hint), or null. */
export function finishedStatus(run) {
  return run?.state === "done" ? run.text : null;
}

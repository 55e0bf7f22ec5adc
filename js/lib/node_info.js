// What the info strip on a node says, from the node's state: pure, so every wording is testable.

import {
  cachedLine, costLine, limitWarning, previewCostLine, sameSettings, seedControlBills, seedWarning, sequenceCostLine,
  unparsedCostLine,
} from "./cost.js";
import { describeAmount, describeMotion, glyphParams } from "./motion_glyph.js";
import { DRIFT_FROM_SEGMENT, drifts, parseMotions } from "./motion_sequence.js";
import { isPaid, isSequence } from "./node_widgets.js";
import { lastRunLine } from "./status.js";

export const TONES = ["main", "dim", "warn", "error", "ok", "run"];

function formatSpeed(speed) {
  return Number.isInteger(speed) ? speed.toFixed(0) : String(Math.round(speed * 100) / 100);
}

function motionLine(glyph) {
  const amount = describeAmount(glyph);
  const head = `${glyph.motion} ×${formatSpeed(glyph.speed)}: ${describeMotion(glyph)}`;
  return amount ? `${head}, ${amount}` : head;
}

function segmentsLine(glyphs) {
  if (glyphs.length === 1) return motionLine(glyphs[0]);
  return `${glyphs.length} segments: ${glyphs.map((g) => `${g.motion} ×${formatSpeed(g.speed)}`).join(" → ")}`;
}

/**
 * The last-run / running / cancelled / failed / kept line, or null. `coreText` is what ComfyUI's own node text
 * shows (1.27 keeps the final status there after a run; newer frontends remove it): the same finished status is
 * not repeated in the strip.
 */
export function statusLine(run, lastStatus, coreText = null) {
  const state = run?.state;
  // ComfyUI may show the same text under the widgets (the server sends it as the node's progress text).
  const shownBelow = Boolean(run?.text) && typeof coreText === "string" && coreText.trim() === run.text.trim();
  if (state === "running") return { text: shownBelow ? "running…" : run.text ?? "running…", tone: "run" };
  if (state === "cancelled") return shownBelow ? null : { text: run.text ?? "cancelled", tone: "warn" };
  if (state === "failed") {
    const text = run.text ?? "failed";
    return { text: /^failed\b/i.test(text) ? text : `failed: ${text}`, tone: "error" };
  }
  if (state === "kept") {
    return shownBelow ? null : { text: run.text ?? "the video that arrived after the cancel was kept", tone: "ok" };
  }
  const done = (state === "done" ? run.text : null) ?? lastStatus;
  if (done && typeof coreText === "string" && coreText.trim() === done.trim()) return null;
  const line = done ? lastRunLine(done) : null;
  return line ? { text: line, tone: "dim" } : null;
}

/**
 * state: { type, params: {motion, motion_speed, fps, motions, ...}, seedControl, lastStatus, lastParams, run,
 * limits: {maxCallsPerRun}, coreText }. Returns { glyphs, glyph, lines: [{ text, tone }] }: `glyphs` are the moves to play
 * one after the other (one for the single nodes, one per segment for the sequences, none when unparsed).
 */
export function nodeInfo(state) {
  const params = state.params ?? {};
  const paid = isPaid(state.type);
  const sequence = isSequence(state.type);
  const lines = [];
  let glyphs;
  let calls = 1;
  let problem = null;
  if (sequence) {
    const parsed = parseMotions(params.motions);
    if (parsed.ok) {
      glyphs = parsed.segments.map((s) => glyphParams(s.motion, s.speed, params.fps));
      calls = glyphs.length;
    } else {
      glyphs = [];
      problem = parsed.error;
    }
  } else {
    glyphs = [glyphParams(params.motion, params.motion_speed, params.fps)];
  }

  // The $0 hint only with a fixed seed: "control before generate" would change it before the prompt is built.
  const cached = paid && !seedControlBills(state.seedControl) && sameSettings(params, state.lastParams);
  if (!paid) lines.push({ text: previewCostLine(), tone: "main" });
  else if (problem) lines.push({ text: unparsedCostLine(), tone: "main" });
  else if (cached) lines.push({ text: cachedLine(), tone: "main" });
  else lines.push({ text: sequence ? sequenceCostLine(calls) : costLine(), tone: "main" });

  if (problem) lines.push({ text: `motions: ${problem}`, tone: "warn" });
  else lines.push({ text: sequence ? segmentsLine(glyphs) : motionLine(glyphs[0]), tone: "dim" });
  if (paid && sequence && !problem && drifts(calls)) {
    lines.push({ text: `from segment ${DRIFT_FROM_SEGMENT} on, quality drifts with each continuation`, tone: "dim" });
  }
  const warning = paid ? seedWarning(state.seedControl) : null;
  if (warning) lines.push({ text: warning, tone: "warn" });
  const refused = paid && !problem && !cached ? limitWarning(calls, state.limits?.maxCallsPerRun) : null;
  if (refused) lines.push({ text: refused, tone: "error" });
  const status = statusLine(state.run, state.lastStatus, state.coreText);
  if (status) lines.push(status);
  const glyph = glyphs[0] ?? glyphParams(null, 0, params.fps);
  return { glyphs, glyph, lines };
}

// A number and its unit ("64 s", "25 %", "3 clips") stay on one line when the strip wraps.
const UNIT_AFTER_NUMBER = /(\d) (?=(?:s|min|ms|clips?|calls?|images?|segments?|frames?|credits)\b|[%°])/g;

export function keepNumbersWithUnits(text) {
  return String(text).replace(UNIT_AFTER_NUMBER, "$1\u00a0");
}

/** A string that changes whenever what the strip shows changes (cheap to compare on every poll). */
export function infoSignature(info) {
  const moves = info.glyphs.map((g) => `${g.motion}|${g.speed}|${g.duration}`).join(";");
  return `${moves}#${info.lines.map((l) => `${l.tone}:${l.text}`).join("\n")}`;
}

// What the info strip on a node says, from the node's state: pure, so every wording is testable.

import { cachedLine, costLine, previewCostLine, sameSettings, seedControlBills, seedWarning } from "./cost.js";
import { describeAmount, describeMotion, glyphParams } from "./motion_glyph.js";
import { PAID_NODE } from "./node_widgets.js";
import { lastRunLine } from "./status.js";

function formatSpeed(speed) {
  return Number.isInteger(speed) ? speed.toFixed(0) : String(Math.round(speed * 100) / 100);
}

function motionLine(glyph) {
  const amount = describeAmount(glyph);
  const head = `${glyph.motion} ×${formatSpeed(glyph.speed)}: ${describeMotion(glyph)}`;
  return amount ? `${head}, ${amount}` : head;
}

/**
 * state: { type, params: {motion, motion_speed, fps, ...}, seedControl, lastStatus, lastParams }.
 * Returns { glyph, lines: [{ text, tone }] } with tone "main", "dim" or "warn".
 */
export function nodeInfo(state) {
  const params = state.params ?? {};
  const glyph = glyphParams(params.motion, params.motion_speed, params.fps);
  const paid = state.type === PAID_NODE;
  const lines = [];
  if (!paid) lines.push({ text: previewCostLine(), tone: "main" });
  // Only with a fixed seed: "control before generate" would change the seed before the next prompt is built.
  else if (!seedControlBills(state.seedControl) && sameSettings(params, state.lastParams)) {
    lines.push({ text: cachedLine(), tone: "main" });
  }
  else lines.push({ text: costLine(), tone: "main" });
  lines.push({ text: motionLine(glyph), tone: "dim" });
  const warning = paid ? seedWarning(state.seedControl) : null;
  if (warning) lines.push({ text: warning, tone: "warn" });
  const last = state.lastStatus ? lastRunLine(state.lastStatus) : null;
  if (last) lines.push({ text: last, tone: "dim" });
  return { glyph, lines };
}

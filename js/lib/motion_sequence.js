// The `motions` text of the sequence nodes (SegmindMotionCtrlSequence, MotionCtrlCameraPreviewSequence), parsed
// the way the Python side parses it, so the node can show cost, glyph and problems before anything is queued.
// Pure module.
//
// Rules (keep in step with the Python parser):
// - segments are separated by newlines or commas; blank segments (a trailing comma, an empty line) are skipped;
// - a segment is `<motion name> [speed]`: runs of spaces/tabs count as one space, the name is matched without
//   regard to case against the eight MotionCtrl motions, the speed is a plain decimal number ("1", "1.5",
//   ".5", "2."), from 0 to 10, 1 when left out;
// - 1 to 8 segments; from the 5th on, quality drifts with each continuation (a note, not an error).

import { MAX_SPEED, MOTIONS } from "./motion_glyph.js";

export const MAX_SEGMENTS = 8;
export const DRIFT_FROM_SEGMENT = 5;
export const DEFAULT_SEGMENT_SPEED = 1;
export const EXAMPLE_MOTIONS = "Pan Left 1.5, Zoom In";

const BY_LOWER_NAME = new Map(MOTIONS.map((name) => [name.toLowerCase(), name]));
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function quote(text) {
  const shown = text.length > 24 ? `${text.slice(0, 23)}…` : text;
  return `"${shown}"`;
}

function parseSegment(raw, index) {
  const words = raw.split(/[ \t]+/).filter(Boolean);
  const where = `(segment ${index})`;
  let speed = DEFAULT_SEGMENT_SPEED;
  let nameWords = words;
  const last = words[words.length - 1];
  if (words.length > 1 && NUMBER.test(last)) {
    speed = Number(last);
    nameWords = words.slice(0, -1);
  }
  const name = nameWords.join(" ");
  const motion = BY_LOWER_NAME.get(name.toLowerCase());
  if (!motion) {
    if (NUMBER.test(name)) return { error: `${quote(name)} has no motion name ${where}` };
    return { error: `${quote(name)} is not a motion ${where}` };
  }
  if (!(speed >= 0 && speed <= MAX_SPEED)) return { error: `speed ${last} is outside 0–${MAX_SPEED} ${where}` };
  return { segment: { motion, speed } };
}

/**
 * "Pan Left 1.5, Zoom In\nCW 0.5" -> { ok: true, segments: [{motion: "Pan Left", speed: 1.5}, ...] }, or
 * { ok: false, error: "<problem>" } with the first problem found (the node shows it as "motions: <problem>").
 */
export function parseMotions(text) {
  if (typeof text !== "string") return { ok: false, error: "not text" };
  const pieces = text.split(/[\n\r,]/).map((piece) => piece.trim()).filter(Boolean);
  if (pieces.length === 0) return { ok: false, error: `empty; write e.g. "${EXAMPLE_MOTIONS}"` };
  if (pieces.length > MAX_SEGMENTS) return { ok: false, error: `${pieces.length} segments, at most ${MAX_SEGMENTS}` };
  const segments = [];
  for (const [i, piece] of pieces.entries()) {
    const parsed = parseSegment(piece, i + 1);
    if (parsed.error) return { ok: false, error: parsed.error };
    segments.push(parsed.segment);
  }
  return { ok: true, segments };
}

/** Whether a sequence of `count` segments is long enough for the quality-drift note. */
export function drifts(count) {
  return Number(count) >= DRIFT_FROM_SEGMENT;
}

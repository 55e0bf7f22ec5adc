// The info strip as a DOM element (rendered by ComfyUI as a DOM widget in the classic canvas and in Nodes 2.0):
// the motion glyph on the left, the info lines on the right. The glyph moves by a Web Animation of one
// `transform` (compositor only: no script runs per frame and the graph canvas is never redrawn for it); the
// lines change only when their text does. No side effects at import.

import { glyphKeyframes, stillTransform, visualParams } from "../lib/motion_glyph.js";
import { keepNumbersWithUnits } from "../lib/node_info.js";
import { drawScene } from "./overlay.js";

export const GLYPH_W = 85;
export const GLYPH_H = 48;
export const LINE_H = 14;
const PAD = 4;
export const MIN_STRIP_HEIGHT = GLYPH_H + 2 * PAD;
const STYLE_ID = "segmind-motionctrl-strip-style";

const CSS = `
.segmind-mc-strip { display: flex; align-items: center; gap: 10px; box-sizing: border-box; width: 100%;
  min-height: ${MIN_STRIP_HEIGHT}px; padding: ${PAD}px 2px; overflow: hidden; font-size: 11px;
  line-height: ${LINE_H}px; font-family: Arial, sans-serif; color: #e6e6e6; cursor: default; user-select: none; }
.segmind-mc-glyph { position: relative; flex: none; width: ${GLYPH_W}px; height: ${GLYPH_H}px; overflow: hidden;
  background: #1d2633; box-shadow: inset 0 0 0 1px #8a94a6; border-radius: 2px; }
.segmind-mc-scene { position: absolute; left: ${-GLYPH_W}px; top: ${-GLYPH_H}px; width: ${3 * GLYPH_W}px;
  height: ${3 * GLYPH_H}px; transform-origin: 50% 50%; will-change: transform; pointer-events: none; }
.segmind-mc-cross { position: absolute; left: ${GLYPH_W / 2 - 4}px; top: ${GLYPH_H / 2 - 4}px; width: 9px;
  height: 9px; pointer-events: none;
  background: linear-gradient(rgba(255,255,255,.55), rgba(255,255,255,.55)) center / 9px 1px no-repeat,
              linear-gradient(rgba(255,255,255,.55), rgba(255,255,255,.55)) center / 1px 9px no-repeat; }
.segmind-mc-frame { position: absolute; inset: 0; box-shadow: inset 0 0 0 1px #8a94a6; pointer-events: none; }
.segmind-mc-lines { flex: 1 1 auto; min-width: 0; align-self: center; }
.segmind-mc-line { overflow: hidden; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2;
  word-break: normal; overflow-wrap: break-word; }
.segmind-mc-main { color: #e6e6e6; }
.segmind-mc-dim { color: #a8a8a8; }
.segmind-mc-warn { color: #f0a542; }
.segmind-mc-error { color: #ff7a6b; }
.segmind-mc-ok { color: #7fd18b; }
.segmind-mc-run { color: #8ab4f8; }
`;

/** Adds the strip's stylesheet once per document. */
export function ensureStripStyles(doc = document) {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}

let sceneUrl = null;

/** The glyph's scene, drawn once for every strip (three frames wide, so a long pan still shows ground). */
function sceneImage(doc) {
  if (sceneUrl === null) {
    const scale = 3;
    const canvas = doc.createElement("canvas");
    canvas.width = 3 * GLYPH_W * scale;
    canvas.height = 3 * GLYPH_H * scale;
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = "#1d2633";
    ctx.fillRect(0, 0, 3 * GLYPH_W, 3 * GLYPH_H);
    ctx.translate(1.5 * GLYPH_W, 1.5 * GLYPH_H);
    drawScene(ctx, GLYPH_W, GLYPH_H);
    sceneUrl = canvas.toDataURL("image/png");
  }
  return sceneUrl;
}

function div(doc, className) {
  const node = doc.createElement("div");
  node.className = className;
  return node;
}

/**
 * A strip element and its updater. `update(info, { animate })` shows nodeInfo's result; it returns true when the
 * strip's height changed (the node may need to grow). `height()` is the height it needs, in px.
 */
export function createStrip(doc = document) {
  const root = div(doc, "segmind-mc-strip");
  root.setAttribute("data-segmind-strip", "");
  const glyph = div(doc, "segmind-mc-glyph");
  const scene = doc.createElement("img");
  scene.className = "segmind-mc-scene";
  scene.alt = "";
  scene.draggable = false;
  scene.src = sceneImage(doc);
  glyph.append(scene, div(doc, "segmind-mc-cross"), div(doc, "segmind-mc-frame"));
  const lines = div(doc, "segmind-mc-lines");
  root.append(glyph, lines);

  let animation = null;
  let moveKey = null;
  let height = MIN_STRIP_HEIGHT;

  function setMoves(glyphs, animate) {
    const key = `${animate}|${glyphs.map((g) => `${g.motion}|${g.speed}|${g.duration}`).join(";")}`;
    if (key === moveKey) return;
    moveKey = key;
    animation?.cancel();
    animation = null;
    const visuals = glyphs.map((g) => visualParams(g));
    scene.style.transform = stillTransform(visuals[0], GLYPH_W);
    const frames = animate ? glyphKeyframes(visuals, GLYPH_W) : null;
    if (frames && typeof scene.animate === "function") {
      animation = scene.animate(frames.keyframes, { duration: frames.duration, iterations: Infinity });
    }
  }

  function setLines(items) {
    const rows = items.map((line) => {
      const row = div(doc, `segmind-mc-line segmind-mc-${line.tone}`);
      row.textContent = keepNumbersWithUnits(line.text);
      row.title = line.text;
      return row;
    });
    lines.replaceChildren(...rows);
  }

  let unmeasured = true;
  let lineCount = 0;

  function measure() {
    // offsetHeight forces a layout, but only here, after the text changed; a hidden strip keeps an estimate
    // (one row a line) and is measured once it shows.
    const visible = root.isConnected && root.offsetParent !== null;
    unmeasured = !visible;
    const measured = visible ? lines.offsetHeight : lineCount * LINE_H;
    return Math.max(MIN_STRIP_HEIGHT, Math.ceil(measured) + 2 * PAD);
  }

  return {
    element: root,
    height: () => height,
    update(info, { animate = true } = {}) {
      setMoves(info.glyphs, animate);
      setLines(info.lines);
      lineCount = info.lines.length;
      const next = measure();
      const changed = next !== height;
      height = next;
      return changed;
    },
    /** Whether the last text was set while the strip was hidden (its height is an estimate). */
    needsMeasure: () => unmeasured && root.isConnected && root.offsetParent !== null,
    /** Measure again; true when the height changed. */
    remeasure() {
      const next = measure();
      const changed = next !== height;
      height = next;
      return changed;
    },
    destroy() {
      animation?.cancel();
      animation = null;
    },
  };
}

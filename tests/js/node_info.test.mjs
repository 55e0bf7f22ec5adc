// The node-facing logic on plain objects shaped like LiteGraph nodes, plus a smoke test of the drawing code
// against a recording 2D context (no browser needed).
import assert from "node:assert/strict";
import { test } from "node:test";

import { infoSignature, keepNumbersWithUnits, nodeInfo, statusLine } from "../../js/lib/node_info.js";
import {
  applyFixedSeedDefault, isPaid, isSequence, NODE_TYPES, paramValues, reserveMotionsRoom, seedControlWidget,
  widgetValue,
} from "../../js/lib/node_widgets.js";
import { drawInfo, fitText, INFO_HEIGHT } from "../../js/ui/overlay.js";

function fakeNode(control = "randomize", overrides = {}) {
  const values = { motion: "Pan Left", motion_speed: 1, fps: 7, motion_bucket_id: 127, cond_aug: 0.02, seed: 985445,
    decoding_t: 1, maintain_aspect_ratio: true, ...overrides };
  const widgets = Object.entries(values).map(([name, value]) => ({ name, value }));
  const controlWidget = { name: "control_after_generate", value: control,
    options: { values: ["fixed", "increment", "decrement", "randomize"] } };
  widgets.splice(6, 0, controlWidget); // right after seed, as ComfyUI adds it
  widgets.find((w) => w.name === "seed").linkedWidgets = [controlWidget];
  return { widgets, controlWidget };
}

test("all four node types are handled; two are paid, two are sequences", () => {
  assert.deepEqual([...NODE_TYPES].sort(), ["MotionCtrlCameraPreview", "MotionCtrlCameraPreviewSequence",
    "SegmindMotionCtrlSVD", "SegmindMotionCtrlSequence"]);
  assert.deepEqual([...NODE_TYPES].filter(isPaid).sort(), ["SegmindMotionCtrlSVD", "SegmindMotionCtrlSequence"]);
  assert.deepEqual([...NODE_TYPES].filter(isSequence).sort(), ["MotionCtrlCameraPreviewSequence", "SegmindMotionCtrlSequence"]);
});

test("a new node's seed control becomes fixed", () => {
  const node = fakeNode("randomize");
  assert.equal(applyFixedSeedDefault(node), true);
  assert.equal(node.controlWidget.value, "fixed");
  assert.equal(applyFixedSeedDefault(node), false);
});

test("the control is found by its link from the seed, or by name", () => {
  const node = fakeNode();
  assert.equal(seedControlWidget(node), node.controlWidget);
  delete node.widgets.find((w) => w.name === "seed").linkedWidgets;
  assert.equal(seedControlWidget(node), node.controlWidget);
  assert.equal(seedControlWidget({ widgets: [{ name: "seed", value: 1 }] }), null);
  assert.equal(applyFixedSeedDefault({}), false);
  assert.equal(applyFixedSeedDefault({ widgets: "nonsense" }), false);
});

test("parameter values leave the control widget out", () => {
  const node = fakeNode();
  const values = paramValues(node);
  assert.equal(values.motion, "Pan Left");
  assert.equal(values.seed, 985445);
  assert.equal(Object.keys(values).length, 8);
  assert.ok(!("control_after_generate" in values));
  assert.equal(widgetValue(node, "fps"), 7);
});

test("the paid node shows cost, motion, a seed warning and the last run", () => {
  const node = fakeNode("randomize");
  const info = nodeInfo({ type: "SegmindMotionCtrlSVD", params: paramValues(node), seedControl: "randomize",
    lastStatus: "Segmind: 1 clip in 64 s, $0.089, credits left 12.34", lastParams: null });
  assert.deepEqual(info.lines.map((l) => l.text), [
    "≈ $0.089 per image · ~60 s",
    "Pan Left ×1: content slides right, 25% of the width",
    "seed 'randomize': every queue is a new paid call",
    "last: 1 clip · 64 s · $0.089 · 12.34 credits left",
  ]);
  assert.deepEqual(info.lines.map((l) => l.tone), ["main", "dim", "warn", "dim"]);
  assert.equal(info.glyph.kind, "pan");
});

test("unchanged settings after a run say $0 if the image is unchanged", () => {
  const params = paramValues(fakeNode("fixed"));
  const info = nodeInfo({ type: "SegmindMotionCtrlSVD", params, seedControl: "fixed", lastParams: { ...params } });
  assert.match(info.lines[0].text, /\$0 if the image is unchanged/);
  const changed = nodeInfo({ type: "SegmindMotionCtrlSVD", params: { ...params, seed: 1 }, seedControl: "fixed",
    lastParams: params });
  assert.match(changed.lines[0].text, /\$0\.089 per image/);
});

test("a seed control that changes the seed never gets the $0 hint", () => {
  const params = paramValues(fakeNode("randomize"));
  for (const control of ["randomize", "increment", "decrement"]) {
    const info = nodeInfo({ type: "SegmindMotionCtrlSVD", params, seedControl: control, lastParams: { ...params } });
    assert.match(info.lines[0].text, /\$0\.089 per image/, control);
    assert.equal(info.lines[2].tone, "warn");
  }
});

test("the preview node is free and never warns about the seed", () => {
  const node = fakeNode("randomize", { motion: "ACW", motion_speed: 2.5 });
  const info = nodeInfo({ type: "MotionCtrlCameraPreview", params: paramValues(node), seedControl: "randomize" });
  assert.deepEqual(info.lines.map((l) => l.text), [
    "free · local (no API call)",
    "ACW ×2.5: content turns clockwise, 139°",
  ]);
});

const PAID = "SegmindMotionCtrlSVD";
const SEQUENCE = "SegmindMotionCtrlSequence";
const PREVIEW_SEQUENCE = "MotionCtrlCameraPreviewSequence";
const single = (run, extra = {}) => nodeInfo({ type: PAID, params: paramValues(fakeNode("fixed")), seedControl: "fixed", run, ...extra });
const last = (info) => info.lines[info.lines.length - 1];

test("the node says how its run ended: every end state", () => {
  const cases = [
    [{ state: "running", text: "Segmind: 2/3 done, processing 41 s (usually ~60 s)" },
      { text: "Segmind: 2/3 done, processing 41 s (usually ~60 s)", tone: "run" }],
    [{ state: "running", text: null }, { text: "running…", tone: "run" }],
    [{ state: "done", text: "Segmind: 1 clip in 64 s, $0.089, credits left 12.34" },
      { text: "last: 1 clip · 64 s · $0.089 · 12.34 credits left", tone: "dim" }],
    [{ state: "cancelled", text: "cancelled — the paid video will be kept when it arrives" },
      { text: "cancelled — the paid video will be kept when it arrives", tone: "warn" }],
    [{ state: "cancelled", text: "cancelled — nothing was billed" }, { text: "cancelled — nothing was billed", tone: "warn" }],
    [{ state: "cancelled", text: null }, { text: "cancelled", tone: "warn" }],
    [{ state: "failed", text: "failed: Segmind did not accept the API key" },
      { text: "failed: Segmind did not accept the API key", tone: "error" }],
    [{ state: "failed", text: "Not enough Segmind credits" }, { text: "failed: Not enough Segmind credits", tone: "error" }],
    [{ state: "kept", text: "the video that arrived after the cancel was kept; running again uses it (free)" },
      { text: "the video that arrived after the cancel was kept; running again uses it (free)", tone: "ok" }],
  ];
  for (const [run, line] of cases) {
    assert.deepEqual(statusLine(run, null), line, run.state);
    assert.deepEqual(last(single(run)), line, run.state);
  }
  // After a cancel the previous run's line is gone; with no run at all, the last status (if any) shows.
  assert.equal(statusLine({ state: "cancelled" }, "Segmind: 1 clip in 64 s, $0.089").text, "cancelled");
  assert.equal(statusLine(null, "Segmind: 2 clips in 3 s, from cache, $0").text, "last: 2 clips · 3 s · cached, $0");
  assert.equal(statusLine({ state: "done", text: null }, "Segmind: 2 clips in 3 s, from cache, $0").text,
    "last: 2 clips · 3 s · cached, $0");
  assert.equal(statusLine(null, null), null);
});

test("a status ComfyUI already shows under the widgets is not repeated; a different one is shown", () => {
  const done = { state: "done", text: "Segmind: 1 clip in 64 s, $0.089, credits left 12.34" };
  assert.equal(statusLine(done, null, "Segmind: 1 clip in 64 s, $0.089, credits left 12.34"), null);
  assert.equal(statusLine(null, done.text, ` ${done.text}\n`), null);
  assert.equal(statusLine(done, null, "Segmind: processing 41 s").text, "last: 1 clip · 64 s · $0.089 · 12.34 credits left");
  assert.equal(statusLine({ state: "cancelled", text: "cancelled" }, done.text, done.text).text, "cancelled");
  const running = { state: "running", text: "Segmind: 2/3 done, processing 41 s (usually ~60 s)" };
  assert.equal(statusLine(running, null, running.text).text, "running…");
  assert.equal(statusLine(running, null, "Segmind: queued 2 s").text, running.text);
  const info = single(done, { coreText: done.text });
  assert.equal(info.lines.length, 2);
  // The server sends the cancel and the later "kept" as node text too: one copy, under the widgets.
  const cancelled = { state: "cancelled", text: "cancelled — the paid video will be kept when it arrives" };
  assert.equal(statusLine(cancelled, null, cancelled.text), null);
  const kept = { state: "kept", text: "the video that arrived after the cancel was kept; running again uses it (free)" };
  assert.equal(statusLine(kept, null, kept.text), null);
  assert.equal(statusLine(kept, null, cancelled.text).text, kept.text);  // a frontend that kept the older text
});

test("a sequence costs one call per segment and shows its segments", () => {
  const params = { motions: "Pan Left 1.5, Zoom In\nCW 0.5", fps: 7, seed: 1 };
  const info = nodeInfo({ type: SEQUENCE, params, seedControl: "fixed" });
  assert.deepEqual(info.lines.map((l) => l.text), [
    "≈ 3 × $0.089 per image ($0.267) · ~60 s each",
    "3 segments: Pan Left ×1.5 → Zoom In ×1 → CW ×0.5",
  ]);
  assert.deepEqual(info.glyphs.map((g) => [g.motion, g.speed]), [["Pan Left", 1.5], ["Zoom In", 1], ["CW", 0.5]]);
  assert.equal(info.glyph.motion, "Pan Left");
  const one = nodeInfo({ type: SEQUENCE, params: { motions: "zoom in 2", fps: 7 }, seedControl: "fixed" });
  assert.deepEqual(one.lines.map((l) => l.text), ["≈ $0.089 per image · ~60 s", "Zoom In ×2: content grows, ×3.00"]);
});

test("from the 5th segment the paid sequence notes the drift; the free preview does not", () => {
  const params = { motions: "CW, ACW, CW, ACW, Pan Up", fps: 7 };
  const paid = nodeInfo({ type: SEQUENCE, params, seedControl: "fixed" });
  assert.equal(paid.lines[2].text, "from segment 5 on, quality drifts with each continuation");
  const four = nodeInfo({ type: SEQUENCE, params: { motions: "CW, ACW, CW, ACW" }, seedControl: "fixed" });
  assert.equal(four.lines.length, 2);
  const preview = nodeInfo({ type: PREVIEW_SEQUENCE, params, seedControl: "randomize" });
  assert.deepEqual(preview.lines.map((l) => l.text), ["free · local (no API call)",
    "5 segments: CW ×1 → ACW ×1 → CW ×1 → ACW ×1 → Pan Up ×1"]);
});

test("motions that do not parse: a clear warning, nothing to pay, a still glyph", () => {
  const info = nodeInfo({ type: SEQUENCE, params: { motions: "Pan Left, Spin 2" }, seedControl: "fixed",
    limits: { maxCallsPerRun: 1 } });
  assert.deepEqual(info.lines, [
    { text: "$0 until the motions parse (nothing is sent)", tone: "main" },
    { text: 'motions: "Spin" is not a motion (segment 2)', tone: "warn" },
  ]);
  assert.deepEqual(info.glyphs, []);
  assert.equal(info.glyph.kind, "unknown");
  const preview = nodeInfo({ type: PREVIEW_SEQUENCE, params: { motions: "" } });
  assert.equal(preview.lines[1].text, 'motions: empty; write e.g. "Pan Left 1.5, Zoom In"');
});

test("a run the per-run limit would refuse is said before it is queued", () => {
  const params = { motions: "CW, ACW, CW", fps: 7, seed: 3 };
  const refused = nodeInfo({ type: SEQUENCE, params, seedControl: "fixed", limits: { maxCallsPerRun: 2 } });
  assert.deepEqual(refused.lines[2], {
    text: "this run would be refused: 3 calls > limit 2 (Settings → Segmind MotionCtrl)", tone: "error" });
  for (const limits of [{ maxCallsPerRun: 3 }, { maxCallsPerRun: null }, undefined]) {
    assert.equal(nodeInfo({ type: SEQUENCE, params, seedControl: "fixed", limits }).lines.length, 2);
  }
  // A cached run makes no call; the free preview never does.
  const cached = nodeInfo({ type: SEQUENCE, params, seedControl: "fixed", lastParams: { ...params }, limits: { maxCallsPerRun: 2 } });
  assert.deepEqual(cached.lines.map((l) => l.text), ["≈ $0 if the image is unchanged (cached)", "3 segments: CW ×1 → ACW ×1 → CW ×1"]);
  assert.equal(nodeInfo({ type: PREVIEW_SEQUENCE, params, limits: { maxCallsPerRun: 2 } }).lines.length, 2);
  // The single node makes one call per image.
  assert.equal(single(null, { limits: { maxCallsPerRun: 1 } }).lines.length, 2);
  assert.match(last(single(null, { limits: { maxCallsPerRun: 0 } })).text, /1 calls > limit 0/);
});

test("numbers stay with their units when the strip wraps", () => {
  assert.equal(keepNumbersWithUnits("last: 1 clip · 64 s · 3 segments · 25 % · 5 calls"),
    "last: 1\u00a0clip · 64\u00a0s · 3\u00a0segments · 25\u00a0% · 5\u00a0calls");
  assert.equal(keepNumbersWithUnits("Pan Left ×1: content slides right"), "Pan Left ×1: content slides right");
  assert.equal(keepNumbersWithUnits("14 frames in 2.1 s"), "14\u00a0frames in 2.1\u00a0s");
});

test("the signature changes with any shown text or move, and only then", () => {
  const a = single(null);
  assert.equal(infoSignature(a), infoSignature(single(null)));
  assert.notEqual(infoSignature(a), infoSignature(single({ state: "cancelled" })));
  const moved = nodeInfo({ type: PAID, params: { ...paramValues(fakeNode("fixed")), motion_speed: 2 }, seedControl: "fixed" });
  assert.notEqual(infoSignature(a), infoSignature(moved));
});

function recordingContext() {
  const calls = [];
  const ctx = new Proxy({ font: "", fillStyle: "", strokeStyle: "", lineWidth: 1, textAlign: "", textBaseline: "" }, {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (prop === "measureText") return (text) => ({ width: text.length * 6 });
      return (...args) => calls.push([prop, ...args]);
    },
    set(target, prop, value) {
      target[prop] = value;
      return true;
    },
  });
  return { ctx, calls };
}

test("the strip draws its glyph and lines inside its height", () => {
  const { ctx, calls } = recordingContext();
  const info = nodeInfo({ type: "SegmindMotionCtrlSVD", params: paramValues(fakeNode()), seedControl: "fixed" });
  drawInfo(ctx, 320, 100, info, { progress: 0.5, dx: 0.1, dy: 0, scale: 1.2, angle: 0.3 });
  const texts = calls.filter(([name]) => name === "fillText");
  assert.equal(texts.length, info.lines.length);
  for (const [, , x, y] of texts) {
    assert.ok(x > 0 && x < 320);
    assert.ok(y > 100 && y < 100 + INFO_HEIGHT);
  }
  assert.ok(calls.some(([name]) => name === "clip"));
  const saves = calls.filter(([name]) => name === "save").length;
  assert.equal(saves, calls.filter(([name]) => name === "restore").length);
});

test("long lines are cut with an ellipsis to fit", () => {
  const { ctx } = recordingContext();
  assert.equal(fitText(ctx, "short", 100), "short");
  const cut = fitText(ctx, "a".repeat(50), 60);
  assert.ok(cut.endsWith("…"));
  assert.ok(cut.length * 6 <= 60);
});

test("a sequence node's motions box keeps room for four lines; other nodes and old frontends are untouched", () => {
  const box = (options) => ({ name: "motions", value: "Pan Left\nZoom In\nCW 0.5", options });
  const sequence = { comfyClass: SEQUENCE, widgets: [box({})] };
  const height = reserveMotionsRoom(sequence);
  assert.ok(height >= 4 * 14, "at least four lines of the monospace box");
  assert.equal(sequence.widgets[0].options.getMinHeight(), height);
  // A frontend's own, larger minimum still wins.
  const roomy = { comfyClass: PREVIEW_SEQUENCE, widgets: [box({ getMinHeight: () => 500 })] };
  reserveMotionsRoom(roomy);
  assert.equal(roomy.widgets[0].options.getMinHeight(), 500);
  assert.equal(reserveMotionsRoom({ comfyClass: PAID, widgets: [box({})] }), null);
  assert.equal(reserveMotionsRoom({ comfyClass: SEQUENCE, widgets: [{ name: "motions", value: "" }] }), null);
});

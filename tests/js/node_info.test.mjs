// The node-facing logic on plain objects shaped like LiteGraph nodes, plus a smoke test of the drawing code
// against a recording 2D context (no browser needed).
import assert from "node:assert/strict";
import { test } from "node:test";

import { nodeInfo } from "../../js/lib/node_info.js";
import {
  applyFixedSeedDefault, NODE_TYPES, paramValues, seedControlWidget, widgetValue,
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

test("both node types are handled", () => {
  assert.deepEqual([...NODE_TYPES].sort(), ["MotionCtrlCameraPreview", "SegmindMotionCtrlSVD"]);
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

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cachedLine, COST_PER_CALL, costLine, estimateCost, formatUsd, limitWarning, previewCostLine, sameSettings,
  seedControlBills, seedWarning, sequenceCostLine, unparsedCostLine,
} from "../../js/lib/cost.js";
import { lastRunLine, parsePreviewStatus, parseStatus, statusFromMessage } from "../../js/lib/status.js";

test("the estimate is $0.089 per image of the batch", () => {
  assert.equal(COST_PER_CALL, 0.089);
  assert.equal(estimateCost(), 0.089);
  assert.equal(estimateCost(3), 0.267);
  assert.equal(estimateCost(20), 1.78);
  assert.equal(estimateCost(0), 0.089); // a batch has at least one image
  assert.equal(estimateCost("x"), 0.089);
});

test("dollars are formatted for reading", () => {
  assert.equal(formatUsd(0.089), "$0.089");
  assert.equal(formatUsd(0.267), "$0.267");
  assert.equal(formatUsd(1.78), "$1.78");
  assert.equal(formatUsd(12), "$12.00");
  assert.equal(formatUsd(0), "$0");
  assert.equal(formatUsd(-1), "$0");
  assert.equal(formatUsd(Number.NaN), "$0");
});

test("cost lines", () => {
  assert.equal(costLine(), "≈ $0.089 per image · ~60 s");
  assert.equal(costLine({ images: 1 }), "≈ $0.089 per run · ~60 s");
  assert.equal(costLine({ images: 3 }), "≈ $0.267 for 3 images · ~60 s each");
  assert.match(previewCostLine(), /^free · local/);
});

test("seed controls that change the seed are flagged as billing every queue", () => {
  for (const control of ["randomize", "increment", "decrement"]) {
    assert.ok(seedControlBills(control));
    assert.match(seedWarning(control), new RegExp(`'${control}'.*paid call`));
  }
  assert.equal(seedControlBills("fixed"), false);
  assert.equal(seedWarning("fixed"), null);
  assert.equal(seedWarning(undefined), null);
});

test("the cached hint needs exactly the same settings as the last run", () => {
  const last = { motion: "CW", motion_speed: 1, seed: 5, maintain_aspect_ratio: true };
  assert.ok(sameSettings({ ...last }, last));
  assert.equal(sameSettings({ ...last, seed: 6 }, last), false);
  assert.equal(sameSettings({ ...last, motion_speed: 1.1 }, last), false);
  assert.equal(sameSettings({ ...last, extra: 1 }, last), false);
  assert.equal(sameSettings(last, null), false);
  assert.equal(sameSettings(last, {}), false);
  assert.match(cachedLine(), /\$0 if the image is unchanged/);
});

test("the status comes from the executed message's segmind_status", () => {
  assert.equal(statusFromMessage({ segmind_status: ["Segmind: 1 clip in 64 s, $0.089"] }), "Segmind: 1 clip in 64 s, $0.089");
  assert.equal(statusFromMessage({ segmind_status: "  plain  " }), "plain");
  assert.equal(statusFromMessage({ images: [] }), null);
  assert.equal(statusFromMessage({ segmind_status: [""] }), null);
  assert.equal(statusFromMessage(undefined), null);
});

// The exact shapes nodes/motionctrl_node.status_line writes.
const STATUSES = {
  "Segmind: 1 clip in 64 s, $0.089, credits left 12.34": {
    parsed: { clips: 1, seconds: 64, cost: 0.089, approx: false, fromCache: false, cachedClips: 0, credits: 12.34 },
    line: "last: 1 clip · 64 s · $0.089 · 12.34 credits left",
  },
  "Segmind: 2 clips in 3 s, from cache, $0": {
    parsed: { clips: 2, seconds: 3, cost: 0, approx: false, fromCache: true, cachedClips: 2, credits: null },
    line: "last: 2 clips · 3 s · cached, $0",
  },
  "Segmind: 3 clips in 70 s, ~$0.178, 1 from cache, credits left 5.00": {
    parsed: { clips: 3, seconds: 70, cost: 0.178, approx: true, fromCache: false, cachedClips: 1, credits: 5 },
    line: "last: 3 clips · 70 s · ~$0.178 · 1 cached · 5.00 credits left",
  },
};

for (const [text, { parsed, line }] of Object.entries(STATUSES)) {
  test(`status: ${text}`, () => {
    assert.deepEqual(parseStatus(text), parsed);
    assert.equal(lastRunLine(text), line);
  });
}

test("sequence cost lines: N calls per image", () => {
  assert.equal(sequenceCostLine(3), "≈ 3 × $0.089 per image ($0.267) · ~60 s each");
  assert.equal(sequenceCostLine(8), "≈ 8 × $0.089 per image ($0.712) · ~60 s each");
  assert.equal(sequenceCostLine(1), costLine());
  assert.equal(sequenceCostLine(0), costLine());
  assert.match(unparsedCostLine(), /^\$0 until the motions parse/);
});

test("the per-run limit warns only when the visible calls exceed it", () => {
  assert.equal(limitWarning(5, 4), "this run would be refused: 5 calls > limit 4 (Settings → Segmind MotionCtrl)");
  assert.equal(limitWarning(4, 4), null);
  assert.equal(limitWarning(5, null), null); // limits unknown (older backend): say nothing
  assert.equal(limitWarning(5, undefined), null);
  assert.equal(limitWarning(5, "4"), null);
  assert.equal(limitWarning(Number.NaN, 4), null);
});

test("the preview's status becomes a short last-run line", () => {
  const preview = "Local preview (not a MotionCtrl video): 14 frames in 2.1 s, free";
  assert.deepEqual(parsePreviewStatus(preview), { frames: 14, seconds: 2.1 });
  assert.equal(lastRunLine(preview), "last: 14 frames · 2.1 s · local preview, free");
  assert.equal(parsePreviewStatus("Segmind: 1 clip in 64 s, $0.089"), null);
  assert.equal(parsePreviewStatus(null), null);
});

test("other status texts are shown as sent", () => {
  const preview = "Local preview (something new)";
  assert.equal(lastRunLine(preview), `last: ${preview}`);
  assert.equal(parseStatus("Segmind: something new"), null);
  assert.equal(lastRunLine("Segmind: something new"), "last: something new");
  assert.equal(lastRunLine(""), null);
  assert.equal(parseStatus(42), null);
});

// The glyph must show how the CONTENT moves (shared/reference/motionctrl-camera.md), not the camera.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CAPS, clampSpeed, describeAmount, describeMotion, glyphFrame, glyphKeyframes, glyphParams, MOTIONS, poseTransform,
  stillTransform, visualParams,
} from "../../js/lib/motion_glyph.js";

const close = (actual, expected, eps = 1e-3) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test("pans move the content against the camera", () => {
  const expectations = {
    "Pan Left": [+1, 0, "right"],
    "Pan Right": [-1, 0, "left"],
    "Pan Up": [0, +1, "down"],
    "Pan Down": [0, -1, "up"],
  };
  for (const [motion, [sx, sy, word]] of Object.entries(expectations)) {
    const p = glyphParams(motion, 1);
    assert.equal(p.kind, "pan");
    assert.equal(Math.sign(p.dx), sx, motion);
    assert.equal(Math.sign(p.dy), sy, motion);
    assert.equal(p.scale, 1);
    assert.equal(p.angle, 0);
    assert.equal(describeMotion(p), `content slides ${word}`);
  }
});

test("Pan Left at speed 1 shifts a quarter of the width, like the local preview", () => {
  close(glyphParams("Pan Left", 1).dx, 0.25);
  // Up/down use a third of the left/right translation in MotionCtrl's table.
  close(glyphParams("Pan Up", 1).dy, 0.25 / 3);
  assert.equal(describeAmount(glyphParams("Pan Left", 1)), "25% of the width");
});

test("zoom in grows the content, zoom out shrinks it", () => {
  const zoomIn = glyphParams("Zoom In", 1);
  const zoomOut = glyphParams("Zoom Out", 1);
  assert.equal(zoomIn.kind, "zoom");
  close(zoomIn.scale, 1.5);
  close(zoomOut.scale, 0.75);
  assert.equal(describeMotion(zoomIn), "content grows");
  assert.equal(describeMotion(zoomOut), "content shrinks");
  assert.equal(describeAmount(zoomIn), "×1.50");
  assert.equal(zoomIn.dx, 0);
  assert.equal(zoomIn.dy, 0);
});

test("a camera roll turns the content the other way", () => {
  const cw = glyphParams("CW", 1);
  const acw = glyphParams("ACW", 1);
  assert.equal(cw.kind, "roll");
  // Canvas angles are y-down: positive = clockwise on screen.
  assert.ok(cw.angle < 0);
  assert.ok(acw.angle > 0);
  close(Math.abs(acw.angle) * (180 / Math.PI), 55.71, 0.01);
  assert.equal(describeMotion(cw), "content turns anticlockwise");
  assert.equal(describeMotion(acw), "content turns clockwise");
  assert.equal(describeAmount(cw), "56°");
});

test("speed scales the move linearly and zero speed stands still", () => {
  close(glyphParams("Pan Right", 2).dx, -0.5);
  close(glyphParams("ACW", 2).angle, 2 * glyphParams("ACW", 1).angle);
  const still = glyphParams("Zoom In", 0);
  assert.equal(still.kind, "still");
  assert.equal(still.scale, 1);
  assert.match(describeMotion(still), /still camera/);
  const frame = glyphFrame(visualParams(still), 0.7);
  close(frame.progress, 0.35);
  assert.deepEqual({ ...frame, progress: 0 }, { progress: 0, dx: 0, dy: 0, scale: 1, angle: 0 });
});

test("zoom in is clamped like the preview (at most 10x), speeds are clamped to 0..10", () => {
  close(glyphParams("Zoom In", 10).scale, 10);
  close(glyphParams("Zoom Out", 10).scale, 1 / 4.333, 1e-2);
  assert.equal(clampSpeed(-3), 0);
  assert.equal(clampSpeed("abc"), 0);
  assert.equal(clampSpeed(42), 10);
  assert.equal(glyphParams("Pan Left", Number.NaN).kind, "still");
});

test("every motion is known and an unknown one draws nothing", () => {
  for (const motion of MOTIONS) assert.notEqual(glyphParams(motion, 1).kind, "unknown");
  const unknown = glyphParams("Dolly Zoom", 1);
  assert.equal(unknown.kind, "unknown");
  assert.deepEqual(glyphFrame(visualParams(unknown), 1), { progress: 0.5, dx: 0, dy: 0, scale: 1, angle: 0 });
});

test("the loop lasts as long as the clip: 14 frames at the node's fps", () => {
  assert.equal(glyphParams("CW", 1, 7).duration, 2);
  assert.equal(glyphParams("CW", 1, 14).duration, 1);
  assert.equal(glyphParams("CW", 1, "bad").duration, 2);
});

test("big moves are capped in size but keep their on-screen rate", () => {
  const slow = glyphParams("Pan Left", 1); // 0.25 widths: under the cap
  const fast = glyphParams("Pan Left", 4); // 1.0 widths: capped
  const vSlow = visualParams(slow);
  const vFast = visualParams(fast);
  close(vSlow.dx, 0.25);
  close(vSlow.moveSeconds, 2);
  close(vFast.dx, CAPS.shift);
  close(vFast.dx / vFast.moveSeconds, fast.dx / fast.duration); // same widths per second as the real move
  const zoom = visualParams(glyphParams("Zoom In", 2.9));
  assert.ok(zoom.scale <= CAPS.grow + 1e-9);
  const out = visualParams(glyphParams("Zoom Out", 10));
  assert.ok(out.scale >= CAPS.shrink - 1e-9);
});

test("frames play the move, hold the last frame, then loop", () => {
  const visual = visualParams(glyphParams("Pan Left", 1));
  const start = glyphFrame(visual, 0);
  const middle = glyphFrame(visual, 1);
  const held = glyphFrame(visual, 2.2);
  const again = glyphFrame(visual, 2.5);
  assert.equal(start.dx, 0);
  close(middle.dx, 0.125);
  close(held.dx, 0.25);
  assert.equal(held.progress, 1);
  close(again.dx, 0);
  assert.equal(glyphFrame(visual, -0.5).progress, 1); // negative clocks wrap instead of going backwards
});

test("a zoom frame's size follows the camera's distance", () => {
  const visual = visualParams(glyphParams("Zoom In", 1));
  close(glyphFrame(visual, 0).scale, 1);
  close(glyphFrame(visual, 2).scale, 1.5);
  // Halfway in distance is 1 / (1 - 1/6), a bit under the geometric mean.
  close(glyphFrame(visual, 1).scale, 1.2);
  const roll = visualParams(glyphParams("CW", 1));
  close(glyphFrame(roll, 1).angle, glyphParams("CW", 1).angle / 2);
});

const visual = (motion, speed = 1, fps = 7) => visualParams(glyphParams(motion, speed, fps));
const parseTransform = (t) => t.match(/-?[\d.]+/g).map(Number); // [x, y, angle, scale]

test("a pose becomes one CSS transform: shift in px of the glyph's width, angle in rad, scale", () => {
  assert.equal(poseTransform({ dx: 0.25, dy: -0.1, angle: 0.5, scale: 1.5 }, 80), "translate(20px, -8px) rotate(0.5rad) scale(1.5)");
  assert.equal(poseTransform({ dx: 0, dy: 0, angle: 0, scale: 1 }, 85), "translate(0px, 0px) rotate(0rad) scale(1)");
  assert.equal(stillTransform(null, 85), "translate(0px, 0px) rotate(0rad) scale(1)");
  const still = parseTransform(stillTransform(visual("Pan Left"), 100));
  close(still[0], 0.25 * 100 * 0.6, 0.01); // 60% into the move
});

test("keyframes play the move as glyphFrame does, hold its last frame and loop", () => {
  const v = visual("Zoom In");
  const { duration, keyframes } = glyphKeyframes([v], 85);
  assert.equal(duration, Math.round((v.moveSeconds + v.holdSeconds) * 1000));
  assert.equal(keyframes[0].offset, 0);
  assert.equal(keyframes[keyframes.length - 1].offset, 1);
  for (let i = 1; i < keyframes.length; i += 1) assert.ok(keyframes[i].offset >= keyframes[i - 1].offset);
  for (const frame of keyframes) {
    const t = Math.min(frame.offset * duration / 1000, v.moveSeconds);
    close(parseTransform(frame.transform)[3], glyphFrame(v, t).scale, 1e-3);
  }
  // The hold: the last two keyframes show the same final pose.
  assert.equal(keyframes[keyframes.length - 1].transform, keyframes[keyframes.length - 2].transform);
  close(parseTransform(keyframes[keyframes.length - 1].transform)[3], 1.5, 1e-3);
});

test("keyframes of a sequence play each segment in turn, each from the start pose", () => {
  const segments = [visual("Pan Left"), visual("CW"), visual("Zoom Out", 2, 14)];
  const { duration, keyframes } = glyphKeyframes(segments, 85, 4);
  const total = segments.reduce((sum, s) => sum + s.moveSeconds + s.holdSeconds, 0);
  assert.equal(duration, Math.round(total * 1000));
  assert.equal(keyframes.length, 3 * (4 + 2));
  // Segment 2 starts where segment 1's period ends, back at the identity pose (a jump, not a slide).
  const start2 = keyframes[6];
  close(start2.offset, (segments[0].moveSeconds + segments[0].holdSeconds) / total, 1e-5);
  assert.equal(start2.transform, "translate(0px, 0px) rotate(0rad) scale(1)");
  assert.equal(keyframes[5].offset, start2.offset);
  assert.notEqual(keyframes[5].transform, start2.transform);
  assert.ok(parseTransform(keyframes[10].transform)[2] < 0); // CW: the content turns anticlockwise
});

test("nothing to animate: still or unknown moves give no keyframes", () => {
  assert.equal(glyphKeyframes([visual("Zoom In", 0)], 85), null);
  assert.equal(glyphKeyframes([visual("Dolly")], 85), null);
  assert.equal(glyphKeyframes([], 85), null);
  assert.equal(glyphKeyframes(undefined, 85), null);
  assert.notEqual(glyphKeyframes([visual("Zoom In", 0), visual("CW")], 85), null);
});

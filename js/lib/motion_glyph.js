// How the picture's content moves on screen for each MotionCtrl motion, as numbers a small drawing can use.
// Same camera model as the pack's local preview (nodes/camera_poses.py, nodes/camera_preview.py): a flat scene
// facing the camera, focal length = frame width, so the glyph and the free preview node agree.
// Pure module: no DOM, no ComfyUI; imported by the entry script and by the Node tests.

export const MOTIONS = ["Pan Up", "Pan Down", "Pan Right", "Pan Left", "Zoom In", "Zoom Out", "CW", "ACW"];
export const FRAME_COUNT = 14;
export const MAX_SPEED = 10;
export const DEFAULT_FPS = 7;

const BASE_T = 1.5;
const BASE_ANGLE = Math.PI / 3;
// The last frame is i = 13 of n = 14: MotionCtrl's camera stops one step short of the full move.
const LAST = (FRAME_COUNT - 1) / FRAME_COUNT;
// Scene depth chosen so that Pan Left at speed 1 shifts the content by a quarter of the width.
const PLANE_DEPTH = 4 * BASE_T * 3 * LAST;
const MIN_DEPTH_RATIO = 0.1;
const MAX_DEPTH_RATIO = 16;

// The camera's move, world-to-camera (x right, y down, z forward): roll axis sign and translation direction.
const CAMERA = {
  "Pan Up": { roll: 0, t: [0, 1, 0] },
  "Pan Down": { roll: 0, t: [0, -1, 0] },
  "Pan Right": { roll: 0, t: [-3, 0, 0] },
  "Pan Left": { roll: 0, t: [3, 0, 0] },
  "Zoom In": { roll: 0, t: [0, 0, -4] },
  "Zoom Out": { roll: 0, t: [0, 0, 4] },
  CW: { roll: -1, t: [0, 0, 0] },
  ACW: { roll: 1, t: [0, 0, 0] },
};

export function clampSpeed(speed) {
  const value = Number(speed);
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, MAX_SPEED);
}

function clampFps(fps) {
  const value = Number(fps);
  return Number.isFinite(value) && value >= 1 ? value : DEFAULT_FPS;
}

function depthScale(tz) {
  const ratio = Math.min(Math.max(1 + tz / PLANE_DEPTH, MIN_DEPTH_RATIO), MAX_DEPTH_RATIO);
  return 1 / ratio;
}

/**
 * Where the content is on the clip's last frame, relative to the first.
 * dx, dy: shift in frame widths (y down, so dy > 0 = content moves down); scale: > 1 grows;
 * angle: radians, canvas convention (y down), so angle > 0 = content turns clockwise on screen.
 */
export function glyphParams(motion, speed, fps = DEFAULT_FPS) {
  const camera = CAMERA[motion];
  const s = clampSpeed(speed);
  const duration = FRAME_COUNT / clampFps(fps);
  if (!camera) {
    return { motion, speed: s, kind: "unknown", dx: 0, dy: 0, scale: 1, angle: 0, duration };
  }
  const travel = LAST * s * BASE_T;
  const [tx, ty, tz] = camera.t.map((v) => v * travel);
  return {
    motion,
    speed: s,
    kind: kindOf(motion, s),
    dx: tx / PLANE_DEPTH,
    dy: ty / PLANE_DEPTH,
    scale: depthScale(tz),
    // Rz(+theta) maps (1, 0) to (cos, sin): downwards on a y-down screen, i.e. clockwise.
    angle: camera.roll * LAST * s * BASE_ANGLE,
    duration,
  };
}

function kindOf(motion, speed) {
  if (speed === 0) return "still";
  if (motion.startsWith("Pan")) return "pan";
  if (motion.startsWith("Zoom")) return "zoom";
  return "roll";
}

/** Direction words for the content (not the camera), e.g. "content slides right". */
export function describeMotion(params) {
  switch (params.kind) {
    case "still":
      return "still camera (the model still drifts a little)";
    case "pan": {
      const horizontal = Math.abs(params.dx) >= Math.abs(params.dy);
      const word = horizontal ? (params.dx > 0 ? "right" : "left") : params.dy > 0 ? "down" : "up";
      return `content slides ${word}`;
    }
    case "zoom":
      return params.scale > 1 ? "content grows" : "content shrinks";
    case "roll":
      return params.angle > 0 ? "content turns clockwise" : "content turns anticlockwise";
    default:
      return "unknown motion";
  }
}

/** How far the move goes, in words a user can compare: a share of the width, a zoom factor, degrees. */
export function describeAmount(params) {
  switch (params.kind) {
    case "pan": {
      const shift = Math.hypot(params.dx, params.dy);
      return `${Math.round(shift * 100)}% of the width`;
    }
    case "zoom":
      return `×${params.scale.toFixed(2)}`;
    case "roll":
      return `${Math.round(Math.abs(params.angle) * (180 / Math.PI))}°`;
    default:
      return "";
  }
}

// The glyph is a thumbnail: beyond these the drawing would leave its frame, so the loop shortens instead
// and keeps the on-screen rate of the real move.
export const CAPS = { shift: 0.35, grow: 2.2, shrink: 0.45 };

/** Capped amplitudes and a loop period that keeps the real rate once the amplitude is capped. */
export function visualParams(params, caps = CAPS) {
  const shift = Math.hypot(params.dx, params.dy);
  const logScale = Math.abs(Math.log(params.scale));
  const capLog = Math.log(params.scale >= 1 ? caps.grow : 1 / caps.shrink);
  let share = 1;
  if (shift > caps.shift) share = caps.shift / shift;
  if (logScale > capLog) share = Math.min(share, capLog / logScale);
  return {
    kind: params.kind,
    dx: params.dx * share,
    dy: params.dy * share,
    scale: Math.exp(Math.log(params.scale) * share),
    angle: params.angle,
    moveSeconds: Math.max(0.25, params.duration * share),
    holdSeconds: 0.5,
  };
}

/** The glyph's pose at time t (seconds): the move plays, holds on its last frame, then starts again. */
export function glyphFrame(visual, t) {
  const period = visual.moveSeconds + visual.holdSeconds;
  const phase = ((t % period) + period) % period;
  const progress = Math.min(1, phase / visual.moveSeconds);
  if (visual.kind === "still" || visual.kind === "unknown") {
    return { progress, dx: 0, dy: 0, scale: 1, angle: 0 };
  }
  return {
    progress,
    dx: visual.dx * progress,
    dy: visual.dy * progress,
    // The camera's distance to the scene changes linearly, so the size changes as its inverse: a dolly-in
    // speeds up towards the end.
    scale: 1 / (1 + progress * (1 / visual.scale - 1)),
    angle: visual.angle * progress,
  };
}

function round(value, digits = 3) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A CSS transform for a pose from glyphFrame, for a glyph `width` px wide (shifts are in frame widths). */
export function poseTransform(frame, width) {
  const x = round(frame.dx * width, 2);
  const y = round(frame.dy * width, 2);
  return `translate(${x}px, ${y}px) rotate(${round(frame.angle, 4)}rad) scale(${round(frame.scale, 4)})`;
}

/** The still pose shown when the animation is off: 60% into the (first) move. */
export function stillTransform(visual, width) {
  if (!visual) return poseTransform({ dx: 0, dy: 0, scale: 1, angle: 0 }, width);
  return poseTransform(glyphFrame(visual, visual.moveSeconds * 0.6), width);
}

/**
 * Keyframes (Web Animations / CSS) that play each move of `visuals` after the other, each holding its last
 * frame, then loop: { duration (ms), keyframes: [{ offset, transform }] }, or null when nothing moves. The
 * samples follow glyphFrame (a zoom is not linear in time), linear in between.
 */
export function glyphKeyframes(visuals, width, samples = 12) {
  const moving = (visuals ?? []).filter(Boolean);
  if (!moving.some((v) => v.kind !== "still" && v.kind !== "unknown")) return null;
  const total = moving.reduce((sum, v) => sum + v.moveSeconds + v.holdSeconds, 0);
  const keyframes = [];
  let start = 0;
  for (const visual of moving) {
    for (let k = 0; k <= samples; k += 1) {
      const t = (visual.moveSeconds * k) / samples;
      keyframes.push({ offset: round((start + t) / total, 6), transform: poseTransform(glyphFrame(visual, t), width) });
    }
    start += visual.moveSeconds + visual.holdSeconds;
    // Hold the last frame until the next move starts from the original pose.
    const last = keyframes[keyframes.length - 1].transform;
    keyframes.push({ offset: round(start / total, 6), transform: last });
  }
  keyframes[keyframes.length - 1].offset = 1;
  return { duration: Math.round(total * 1000), keyframes };
}

// Canvas drawing of the info strip: the motion glyph on the left, the info lines on the right.
// No side effects at import; draws only into the context it is given.

export const INFO_HEIGHT = 66;
const MARGIN = 15;
const GLYPH_H = 48;
const GLYPH_W = Math.round((GLYPH_H * 16) / 9);
const LINE_H = 14;

const TONES = { main: "#e6e6e6", dim: "#a8a8a8", warn: "#f0a542" };

/** Cut `text` to `maxWidth` pixels with an ellipsis. */
export function fitText(ctx, text, maxWidth) {
  if (ctx.measureText(text).width <= maxWidth) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (ctx.measureText(text.slice(0, mid) + "…").width <= maxWidth) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low) + "…";
}

export function drawScene(ctx, w, h) {
  // Dots over three frames' worth of ground, so a long pan still shows texture moving, not emptiness.
  ctx.fillStyle = "rgba(255,255,255,0.16)";
  for (let gx = -1.5; gx <= 1.5; gx += 0.125) {
    for (let gy = -1.5; gy <= 1.5; gy += 0.2) ctx.fillRect(gx * w - 1, gy * h - 1, 2, 2);
  }
  ctx.fillStyle = "#2f6b45";
  ctx.fillRect(-1.5 * w, 0.12 * h, 3 * w, 1.4 * h);
  ctx.fillStyle = "#6f88a8";
  ctx.beginPath();
  ctx.moveTo(-0.5 * w, 0.12 * h);
  ctx.lineTo(-0.22 * w, -0.26 * h);
  ctx.lineTo(0.04 * w, 0.12 * h);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = "#f2c14e";
  ctx.beginPath();
  ctx.arc(0.24 * w, -0.14 * h, 0.12 * h, 0, Math.PI * 2);
  ctx.fill();
}

/** The glyph: a 16:9 camera frame whose content moves as `frame` (from glyphFrame) says. */
export function drawGlyph(ctx, x, y, frame) {
  const w = GLYPH_W;
  const h = GLYPH_H;
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.fillStyle = "#1d2633";
  ctx.fill();
  ctx.clip();
  ctx.translate(x + w / 2 + frame.dx * w, y + h / 2 + frame.dy * w);
  ctx.rotate(frame.angle);
  ctx.scale(frame.scale, frame.scale);
  drawScene(ctx, w, h);
  ctx.restore();
  ctx.save();
  ctx.strokeStyle = "#8a94a6";
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  // A fixed centre mark: the camera frame stays, the content moves against it.
  ctx.strokeStyle = "rgba(255,255,255,0.55)";
  ctx.beginPath();
  ctx.moveTo(x + w / 2 - 4, y + h / 2);
  ctx.lineTo(x + w / 2 + 4, y + h / 2);
  ctx.moveTo(x + w / 2, y + h / 2 - 4);
  ctx.lineTo(x + w / 2, y + h / 2 + 4);
  ctx.stroke();
  ctx.restore();
}

/** The whole strip at widget position `y`, `width` wide. */
export function drawInfo(ctx, width, y, info, frame) {
  ctx.save();
  const glyphY = y + (INFO_HEIGHT - GLYPH_H) / 2;
  drawGlyph(ctx, MARGIN, glyphY, frame);
  const textX = MARGIN + GLYPH_W + 10;
  const maxWidth = Math.max(20, width - textX - MARGIN);
  ctx.font = "11px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const lines = info.lines.slice(0, 4);
  const top = y + INFO_HEIGHT / 2 - ((lines.length - 1) * LINE_H) / 2;
  lines.forEach((line, i) => {
    ctx.fillStyle = TONES[line.tone] ?? TONES.main;
    ctx.fillText(fitText(ctx, line.text, maxWidth), textX, top + i * LINE_H);
  });
  ctx.restore();
}

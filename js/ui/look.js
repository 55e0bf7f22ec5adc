// Styling the pack's Settings controls like the frontend's own: PrimeVue classes where they still style plain
// elements (1.27), the frontend's design tokens where it has them (1.58). No side effects at import.

import { chooseLook, controlClass } from "../lib/frontend_compat.js";

const STYLE_ID = "segmind-motionctrl-settings-style";

// Sizes follow the frontend's settings controls: 1.58's inputs and buttons are 2.5rem high, 0.5rem rounded, on
// --secondary; 1.27's PrimeVue inputs are 36 px with a 1 px border (kept from PrimeVue itself).
const CSS = `
.segmind-mc-settings { display: flex; flex-direction: column; gap: 6px; align-items: flex-end; max-width: 30rem; }
.segmind-mc-row { display: flex; gap: 6px; align-items: center; justify-content: flex-end; flex-wrap: wrap; }
.segmind-mc-input { box-sizing: border-box; height: 2.5rem; min-width: 0; border: none; outline: none;
  border-radius: var(--radius-lg, .5rem); background: var(--secondary, var(--comfy-input-bg, #262729));
  color: var(--foreground, var(--input-text, #fff)); padding: .5rem 1rem; font: inherit;
  font-size: var(--text-sm, .875rem); line-height: 1.25rem; }
.segmind-mc-input::placeholder { color: var(--muted-foreground, #8a8a8a); }
.segmind-mc-input:focus-visible { box-shadow: 0 0 0 1px var(--ring, #8a8a8a); }
.segmind-mc-input:disabled { opacity: .5; cursor: not-allowed; }
.segmind-mc-button { box-sizing: border-box; display: inline-flex; align-items: center; justify-content: center;
  height: 2.5rem; border: none; border-radius: var(--radius-lg, .5rem); padding: .5rem 1rem; cursor: pointer;
  font: inherit; font-size: var(--text-sm, .875rem); line-height: 1.25rem; font-weight: 500; white-space: nowrap;
  color: var(--foreground, #fff); background: var(--secondary, #262729); transition: background-color .15s; }
.segmind-mc-button:hover { background: var(--accent, #313235); }
.segmind-mc-button:focus-visible { outline: none; box-shadow: 0 0 0 1px var(--ring, #8a8a8a); }
.segmind-mc-button:disabled { opacity: .5; pointer-events: none; }
.segmind-mc-button-primary { background: var(--primary, #0b8ce9); }
.segmind-mc-button-primary:hover { background: color-mix(in srgb, var(--primary, #0b8ce9) 90%, transparent); }
.segmind-mc-button-danger { background: var(--destructive, #b33a3a); }
.segmind-mc-button-danger:hover { background: color-mix(in srgb, var(--destructive, #b33a3a) 90%, transparent); }
.segmind-mc-note { font-size: var(--text-xs, .75rem); line-height: 1rem; color: var(--muted-foreground, #8a8a8a);
  max-width: 26rem; text-align: right; white-space: normal; }
.segmind-mc-prime-note { color: var(--p-text-muted-color, #a1a1aa); font-size: 12px; }
.segmind-mc-number { width: 8rem; text-align: right; }
.segmind-mc-key { width: 11rem; }
.segmind-mc-value { font-size: var(--text-sm, .875rem); color: var(--foreground, var(--p-text-color, #fff)); text-align: right; }
`;

/** Adds the Settings stylesheet once per document. */
export function ensureSettingsStyles(doc = document) {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}

/** The look of the running frontend, read from its CSS variables. */
export function currentLook(doc = document) {
  const root = getComputedStyle(doc.documentElement);
  return chooseLook({
    secondary: root.getPropertyValue("--secondary"),
    foreground: root.getPropertyValue("--foreground"),
    primevue: root.getPropertyValue("--p-inputtext-background"),
  });
}

export function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

/** A control styled for `look`: kind "input" | "button" | "note". */
export function control(look, kind, { variant, extraClass = "", ...props } = {}) {
  const tag = kind === "input" ? "input" : kind === "button" ? "button" : "div";
  const node = element(tag, props);
  node.className = `${controlClass(look, kind, variant)} ${extraClass}`.trim();
  if (kind === "button") node.type = "button";
  return node;
}

export function row(...items) {
  return element("div", { className: "segmind-mc-row" }, items);
}

/** The outer box of one of the pack's settings, styled for the current frontend. */
export function panel(children) {
  ensureSettingsStyles();
  return element("div", { className: "segmind-mc-settings" }, children);
}

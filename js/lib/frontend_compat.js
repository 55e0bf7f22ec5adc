// Which frontend API to use, decided from what the running frontend offers (1.27.10 up to 1.58.x were checked).
// Pure module: the decisions take plain objects, so each fallback is testable without a browser.

export const SETTINGS_COMMAND = "Comfy.ShowSettingsDialog";

/** The Settings dialog's key for a category of settings (the same in 1.27 and 1.58). */
export function categoryKey(category) {
  return `root/${category}`;
}

/**
 * How to open Settings at a category:
 * "dialog"  - extensionManager.dialog.showSettingsDialog(key) (1.27: opens the category directly);
 * "command" - the command Comfy.ShowSettingsDialog (1.58: opens Settings; the category is then picked);
 * "none"    - neither exists: tell the user where to go.
 */
export function settingsOpener(extensionManager) {
  if (typeof extensionManager?.dialog?.showSettingsDialog === "function") return "dialog";
  if (typeof extensionManager?.command?.execute === "function") return "command";
  return "none";
}

/** Words for a toast when Settings could not be put on the pack's category by itself. */
export function settingsHint(category, opened) {
  const where = `“${category}” in the list on the left (or search for “Segmind”)`;
  return opened ? `Settings is open: choose ${where}.` : `Open Settings (the gear icon), then choose ${where}.`;
}

/**
 * How the Settings panel's own controls are styled:
 * "tokens"   - the frontend's design tokens (--secondary, --foreground, ...; 1.58), applied by the pack's CSS;
 * "primevue" - PrimeVue's styled classes (p-inputtext, p-button; 1.27), which style plain elements there;
 * "plain"    - neither found: the pack's CSS with its own fallback colours.
 */
export function chooseLook({ secondary = "", foreground = "", primevue = "" } = {}) {
  if (String(secondary).trim() && String(foreground).trim()) return "tokens";
  if (String(primevue).trim()) return "primevue";
  return "plain";
}

const PRIME_BUTTONS = {
  primary: "p-button p-component p-button-sm",
  secondary: "p-button p-component p-button-sm p-button-secondary",
  danger: "p-button p-component p-button-sm p-button-danger p-button-outlined",
};

/** Class names for a control ("input", "button", "note") in a look; buttons have a variant. */
export function controlClass(look, kind, variant = "secondary") {
  if (look === "primevue") {
    if (kind === "input") return "p-inputtext p-component";
    if (kind === "button") return PRIME_BUTTONS[variant] ?? PRIME_BUTTONS.secondary;
    return "segmind-mc-note segmind-mc-prime-note";
  }
  if (kind === "input") return "segmind-mc-input";
  if (kind === "button") return `segmind-mc-button segmind-mc-button-${PRIME_BUTTONS[variant] ? variant : "secondary"}`;
  return "segmind-mc-note";
}

/** Whether a node can carry a DOM widget (every frontend since 2024); else the canvas-drawn strip is used. */
export function canAddDomWidget(node) {
  return typeof node?.addDOMWidget === "function";
}

/** Whether `node` sits inside a subgraph (its graph is not the root graph); undefined when unknown. */
export function inSubgraph(node, rootGraph) {
  if (!node?.graph || !rootGraph) return undefined;
  return node.graph !== rootGraph;
}

/** The node id out of an `executing` event's detail (a string id in 1.27 and 1.58; an object in some builds). */
export function executingNodeId(detail) {
  if (detail === null || detail === undefined) return null;
  if (typeof detail === "object") return detail.display_node ?? detail.node ?? null;
  return String(detail);
}

// Which frontend API the extension uses, decided from the shapes 1.27.10 and 1.58.1 really have.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  canAddDomWidget, categoryKey, chooseLook, controlClass, executingNodeId, inSubgraph, settingsHint, settingsOpener,
} from "../../js/lib/frontend_compat.js";

const fn = () => {};

test("Settings: showSettingsDialog where it exists (1.27), else the Settings command (1.58), else a hint", () => {
  assert.equal(settingsOpener({ dialog: { showSettingsDialog: fn }, command: { execute: fn } }), "dialog");
  // 1.58.1: extensionManager.dialog has no showSettingsDialog any more.
  assert.equal(settingsOpener({ dialog: { confirm: fn, prompt: fn }, command: { execute: fn, commands: [] } }), "command");
  assert.equal(settingsOpener({ dialog: {} }), "none");
  assert.equal(settingsOpener(undefined), "none");
  assert.equal(settingsOpener({ dialog: { showSettingsDialog: "not a function" } }), "none");
  assert.equal(categoryKey("Segmind MotionCtrl"), "root/Segmind MotionCtrl");
});

test("when Settings cannot be put on the category, the user is told where to go", () => {
  assert.equal(settingsHint("Segmind MotionCtrl", true),
    "Settings is open: choose “Segmind MotionCtrl” in the list on the left (or search for “Segmind”).");
  assert.match(settingsHint("Segmind MotionCtrl", false), /^Open Settings \(the gear icon\), then choose “Segmind MotionCtrl”/);
});

test("the panel's look follows the frontend: design tokens (1.58), PrimeVue (1.27), or plain", () => {
  // What getComputedStyle(document.documentElement) answered in each frontend.
  assert.equal(chooseLook({ secondary: "#262729", foreground: "#ffffff", primevue: "" }), "tokens");
  assert.equal(chooseLook({ secondary: "", foreground: "", primevue: "#09090b" }), "primevue");
  assert.equal(chooseLook({ secondary: " ", foreground: "", primevue: "" }), "plain");
  assert.equal(chooseLook(), "plain");
});

test("control classes per look", () => {
  assert.equal(controlClass("primevue", "input"), "p-inputtext p-component");
  assert.equal(controlClass("primevue", "button", "primary"), "p-button p-component p-button-sm");
  assert.equal(controlClass("primevue", "button", "secondary"), "p-button p-component p-button-sm p-button-secondary");
  assert.equal(controlClass("primevue", "button", "nonsense"), "p-button p-component p-button-sm p-button-secondary");
  assert.match(controlClass("primevue", "note"), /segmind-mc-note/);
  for (const look of ["tokens", "plain"]) {
    assert.equal(controlClass(look, "input"), "segmind-mc-input");
    assert.equal(controlClass(look, "button", "primary"), "segmind-mc-button segmind-mc-button-primary");
    assert.equal(controlClass(look, "button", "nonsense"), "segmind-mc-button segmind-mc-button-secondary");
    assert.equal(controlClass(look, "note"), "segmind-mc-note");
    assert.ok(!controlClass(look, "button").includes("p-button"), "PrimeVue classes style nothing there");
  }
});

test("DOM widgets where the node offers them, else the canvas-drawn strip", () => {
  assert.equal(canAddDomWidget({ addDOMWidget: fn }), true);
  assert.equal(canAddDomWidget({}), false);
  assert.equal(canAddDomWidget(null), false);
});

test("subgraph nesting and executing ids", () => {
  const root = {};
  assert.equal(inSubgraph({ graph: root }, root), false);
  assert.equal(inSubgraph({ graph: {} }, root), true);
  assert.equal(inSubgraph({}, root), undefined);
  assert.equal(inSubgraph({ graph: root }, null), undefined);
  assert.equal(executingNodeId("12:7"), "12:7");
  assert.equal(executingNodeId(7), "7");
  assert.equal(executingNodeId({ node: "7", display_node: "12:7" }), "12:7");
  assert.equal(executingNodeId(null), null);
});

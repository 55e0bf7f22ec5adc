// ComfyUI wiring for the Segmind MotionCtrl pack: safe seed default, API key settings, cost and motion at a
// glance. Only this file has a side effect (registering the extension); the logic lives in ./lib (pure, tested
// under Node) and the drawing/DOM in ./ui. If any of it fails, the Python nodes work exactly as before.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { glyphFrame, visualParams } from "./lib/motion_glyph.js";
import { nodeInfo } from "./lib/node_info.js";
import { applyFixedSeedDefault, NODE_TYPES, PAID_NODE, paramValues, seedControlWidget } from "./lib/node_widgets.js";
import { statusFromMessage } from "./lib/status.js";
import { statusText, testToast } from "./lib/key_setting.js";
import { buildKeyPanel, fetchKeyStatus, testKey } from "./ui/key_panel.js";
import { drawInfo, INFO_HEIGHT } from "./ui/overlay.js";

const SETTING_KEY = "SegmindMotionCtrl.ApiKey";
const SETTING_ANIMATE = "SegmindMotionCtrl.AnimateGlyph";
const SETTINGS_CATEGORY = "Segmind MotionCtrl";
const STATE = Symbol("segmindMotionCtrl");
// A thumbnail needs few frames; each tick redraws the canvas, so keep it low.
const ANIMATION_FPS = 15;
const MIN_ZOOM_TO_ANIMATE = 0.4;
const MIN_NODE_WIDTH = 380;

function safely(what, fn) {
  try {
    return fn();
  } catch (error) {
    console.warn(`[segmind-motionctrl] ${what} failed; the node itself is unaffected.`, error);
    return undefined;
  }
}

function notify(toast) {
  const message = { life: 8000, ...toast };
  const shown = safely("toast", () => (app.extensionManager?.toast?.add(message), true));
  if (!shown) console.info(`[segmind-motionctrl] ${message.summary}: ${message.detail}`);
}

function animationOn() {
  return safely("reading a setting", () => app.extensionManager.setting.get(SETTING_ANIMATE)) !== false;
}

function stateOf(node) {
  node[STATE] ??= { lastStatus: null, queued: null, lastParams: null };
  return node[STATE];
}

// ---- the info strip on the nodes -----------------------------------------------------------------------------

// ComfyUI prints the node's progress text (the same status line) in a widget of its own after a real run.
const CORE_TEXT_WIDGET = "$$node-text-preview";

function statusShownByComfy(node, status) {
  return Boolean(status) && node.widgets?.some((w) => w?.name === CORE_TEXT_WIDGET && w.value === status);
}

function drawNodeInfo(ctx, node, width, y) {
  const state = stateOf(node);
  const info = nodeInfo({
    type: node.comfyClass ?? node.type,
    params: paramValues(node),
    seedControl: seedControlWidget(node)?.value,
    lastStatus: statusShownByComfy(node, state.lastStatus) ? null : state.lastStatus,
    lastParams: state.lastParams,
  });
  const visual = visualParams(info.glyph);
  const t = animationOn() ? performance.now() / 1000 : visual.moveSeconds * 0.6;
  drawInfo(ctx, width, y, info, glyphFrame(visual, t));
}

function infoWidget(node) {
  return {
    name: "segmind_info",
    type: "segmind_info",
    value: "",
    // Display only: not in the saved workflow, not in the prompt sent to the server.
    serialize: false,
    options: { serialize: false },
    computeSize: (width) => [width ?? node.size?.[0] ?? 300, INFO_HEIGHT],
    draw(ctx, _node, width, y) {
      safely("drawing the info strip", () => drawNodeInfo(ctx, node, width, y));
    },
    // Runs just before the prompt is built (after a "control before generate" seed change): these are the
    // values this run is sent with. After the run they become "last run" for the $0 (cached) hint. With several
    // runs queued it records the newest, which will have run (and be cached) by the time the hint matters.
    beforeQueued() {
      safely("recording the queued settings", () => (stateOf(node).queued = paramValues(node)));
    },
  };
}

function patchNodeType(nodeType, name) {
  const proto = nodeType.prototype;
  const onNodeCreated = proto.onNodeCreated;
  proto.onNodeCreated = function () {
    const result = onNodeCreated?.apply(this, arguments);
    safely("setting the seed control to fixed", () => applyFixedSeedDefault(this));
    safely("adding the info strip", () => {
      this.addCustomWidget(infoWidget(this));
      // Wide enough for the info lines; a loaded workflow's saved size replaces this right after.
      const [width, height] = this.computeSize();
      this.setSize?.([Math.max(this.size?.[0] ?? 0, width, MIN_NODE_WIDTH), Math.max(this.size?.[1] ?? 0, height)]);
    });
    return result;
  };

  const onExecuted = proto.onExecuted;
  proto.onExecuted = function (message) {
    const result = onExecuted?.apply(this, arguments);
    safely("reading the run's status", () => {
      const state = stateOf(this);
      state.lastStatus = statusFromMessage(message) ?? state.lastStatus;
      state.lastParams = state.queued;
      this.setDirtyCanvas?.(true, false);
    });
    return result;
  };

  if (name !== PAID_NODE) return;
  const getExtraMenuOptions = proto.getExtraMenuOptions;
  proto.getExtraMenuOptions = function (canvas, options) {
    const result = getExtraMenuOptions?.apply(this, arguments);
    safely("adding menu items", () => {
      options.push(null,
        { content: "Segmind: test the API key (free)", callback: () => void runKeyTest() },
        { content: "Segmind: API key settings…", callback: () => openKeySettings() });
    });
    return result;
  };
}

// ---- the key: commands and the Settings entry ----------------------------------------------------------------

async function runKeyTest() {
  notify({ severity: "info", summary: "Testing the Segmind key…", detail: "A free credits look-up.", life: 3000 });
  notify(testToast(await testKey(api)));
}

async function showKeyStatus() {
  notify({ severity: "info", summary: "Segmind API key", detail: statusText(await fetchKeyStatus(api)) });
}

function openKeySettings() {
  // Category nodes of the settings tree are keyed "root/<category>".
  safely("opening Settings", () => app.extensionManager.dialog.showSettingsDialog(`root/${SETTINGS_CATEGORY}`));
}

async function dropStaleSettingValue() {
  // Nothing of this pack writes the key into the settings store; clear whatever an older build or a hand edit
  // left there, because comfy.settings.json is served to any client.
  const setting = app.extensionManager?.setting;
  if (setting?.get(SETTING_KEY)) await setting.set(SETTING_KEY, "");
}

// ---- animation -----------------------------------------------------------------------------------------------

function glyphVisible(canvas) {
  if ((canvas.ds?.scale ?? 1) < MIN_ZOOM_TO_ANIMATE) return false;
  const nodes = canvas.visible_nodes ?? [];
  return nodes.some((node) => node[STATE] && !node.flags?.collapsed && NODE_TYPES.has(node.comfyClass));
}

function startAnimation() {
  setInterval(() => {
    if (document.hidden || !animationOn()) return;
    const canvas = app.canvas;
    if (canvas && glyphVisible(canvas)) canvas.setDirty(true, false);
  }, 1000 / ANIMATION_FPS);
}

app.registerExtension({
  name: "segmind.motionctrl",
  settings: [
    {
      id: SETTING_KEY,
      category: [SETTINGS_CATEGORY, "API key", "Key"],
      name: "Segmind API key",
      tooltip: "Saved on the ComfyUI server in <user dir>/segmind_motionctrl/api_key.txt (owner-only), never in " +
        "these settings, a workflow or the browser. SEGMIND_API_KEY, when set, takes precedence.",
      // A render function, not a text setting: the settings store would save every keystroke.
      type: () => buildKeyPanel({ api, notify }),
      defaultValue: "",
    },
    {
      id: SETTING_ANIMATE,
      category: [SETTINGS_CATEGORY, "Nodes", "Animate"],
      name: "Animate the motion glyph on the nodes",
      tooltip: "Off: the glyph shows a still frame of the move and never redraws the canvas by itself.",
      type: "boolean",
      defaultValue: true,
    },
  ],
  commands: [
    { id: "SegmindMotionCtrl.TestKey", label: "Segmind MotionCtrl: test the API key (free)", icon: "pi pi-key",
      function: runKeyTest },
    { id: "SegmindMotionCtrl.KeyStatus", label: "Segmind MotionCtrl: API key status", icon: "pi pi-info-circle",
      function: showKeyStatus },
    { id: "SegmindMotionCtrl.KeySettings", label: "Segmind MotionCtrl: API key settings", icon: "pi pi-cog",
      function: openKeySettings },
  ],
  menuCommands: [
    { path: ["Extensions", "Segmind MotionCtrl"],
      commands: ["SegmindMotionCtrl.KeySettings", "SegmindMotionCtrl.TestKey", "SegmindMotionCtrl.KeyStatus"] },
  ],
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (NODE_TYPES.has(nodeData?.name)) safely("patching the node type", () => patchNodeType(nodeType, nodeData.name));
  },
  async setup() {
    safely("starting the glyph animation", startAnimation);
    try {
      await dropStaleSettingValue();
    } catch (error) {
      console.warn("[segmind-motionctrl] could not clear a stale key setting", error);
    }
  },
});

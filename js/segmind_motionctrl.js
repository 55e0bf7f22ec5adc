// ComfyUI wiring for the Segmind MotionCtrl pack: safe seed default, API key and spend settings, cost, motion
// and run state at a glance. Only this file has a side effect (registering the extension); the logic lives in
// ./lib (pure, tested under Node) and the drawing/DOM in ./ui. Every frontend API used here is feature-detected
// (checked on frontend 1.27.10 and 1.58.1, classic and Nodes 2.0), and if any of it fails the Python nodes work
// exactly as before.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { canAddDomWidget, executingNodeId, inSubgraph } from "./lib/frontend_compat.js";
import { glyphFrame, visualParams } from "./lib/motion_glyph.js";
import { infoSignature, nodeInfo } from "./lib/node_info.js";
import {
  applyFixedSeedDefault, isPaid, NODE_TYPES, paramValues, reserveMotionsRoom, seedControlWidget,
} from "./lib/node_widgets.js";
import { applyCoreEvent, applyPackEvent, finishedStatus, matchesNode } from "./lib/run_state.js";
import { stripLimits } from "./lib/spend.js";
import { statusFromMessage } from "./lib/status.js";
import { statusText, testToast } from "./lib/key_setting.js";
import { forwardToCanvas } from "./ui/canvas_events.js";
import { buildKeyPanel, fetchKeyStatus, testKey } from "./ui/key_panel.js";
import { drawInfo, INFO_HEIGHT } from "./ui/overlay.js";
import { openSettingsAt } from "./ui/settings_nav.js";
import { buildLimitPanel, buildUsagePanel, createSpendStore } from "./ui/spend_panel.js";
import { createStrip, ensureStripStyles } from "./ui/strip.js";

const SETTING_KEY = "SegmindMotionCtrl.ApiKey";
const SETTING_ANIMATE = "SegmindMotionCtrl.AnimateGlyph";
const SETTINGS_CATEGORY = "Segmind MotionCtrl";
const STATUS_EVENT = "segmind_motionctrl.status";
const STATE = Symbol("segmindMotionCtrl");
// How often the strips look at their node's widgets. A poll, because a widget edited in Nodes 2.0 does not
// necessarily call back; it only compares strings and touches the DOM when something changed.
const POLL_MS = 250;
const STRIP_MARGIN = 8;
// Wide enough for the motion line, the seed warning and most status lines on one line each.
const MIN_NODE_WIDTH = 440;

const nodes = new Set();
const spend = createSpendStore(api);
let currentPromptId = null;

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
  const shown = safely("toast", () => {
    if (typeof app.extensionManager?.toast?.add !== "function") return false;
    app.extensionManager.toast.add(message);
    return true;
  });
  if (!shown) console.info(`[segmind-motionctrl] ${message.summary}: ${message.detail}`);
}

function animationOn() {
  const enabled = safely("reading a setting", () => app.extensionManager?.setting?.get(SETTING_ANIMATE)) !== false;
  const reduced = safely("reading the motion preference", () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches);
  return enabled && !reduced;
}

function stateOf(node) {
  node[STATE] ??= { run: null, lastStatus: null, queued: null, lastParams: null, strip: null, info: null, signature: null };
  return node[STATE];
}

function rootGraph() {
  return safely("finding the root graph", () => app.rootGraph ?? app.graph) ?? null;
}

// ---- the info strip on the nodes -----------------------------------------------------------------------------

// ComfyUI's own node text (the progress text the Python side sends), shown under the widgets.
const CORE_TEXT_WIDGET = "$$node-text-preview";

function coreText(node) {
  const value = node.widgets?.find((w) => w?.name === CORE_TEXT_WIDGET)?.value;
  return typeof value === "string" ? value : null;
}

function infoFor(node) {
  const state = stateOf(node);
  return nodeInfo({
    type: node.comfyClass ?? node.type,
    params: paramValues(node),
    seedControl: seedControlWidget(node)?.value,
    lastStatus: state.lastStatus,
    lastParams: state.lastParams,
    run: state.run,
    limits: stripLimits(spend.usage),
    coreText: coreText(node),
  });
}

/** Recomputes what the node's strip says and touches the DOM (or the canvas) only if that changed. */
function refresh(node) {
  const state = stateOf(node);
  const info = infoFor(node);
  const animate = animationOn();
  const signature = `${animate}|${infoSignature(info)}`;
  if (signature === state.signature) {
    // Text that was set while the strip was hidden is measured once it shows.
    if (state.strip?.needsMeasure() && state.strip.remeasure()) relayout(node);
    return;
  }
  state.signature = signature;
  state.info = info;
  if (state.strip) {
    if (state.strip.update(info, { animate })) relayout(node);
  } else {
    state.repaint?.();
  }
}

function relayout(node) {
  // Classic canvas: the next draw arranges the widgets and grows the node to the strip's new height. Nodes 2.0
  // lays the strip out as DOM by itself.
  node.setDirtyCanvas?.(true, true);
}

function refreshAll() {
  for (const node of nodes) safely("updating the info strip", () => refresh(node));
}

function recordQueued(node) {
  // Runs just before the prompt is built (after a "control before generate" seed change): these are the
  // values this run is sent with. After the run they become "last run" for the $0 (cached) hint. With several
  // runs queued it records the newest, which will have run (and be cached) by the time the hint matters.
  stateOf(node).queued = paramValues(node);
}

function addDomStrip(node) {
  const strip = createStrip(document);
  safely("passing canvas gestures through the strip", () => forwardToCanvas(strip.element, () => app.canvas));
  const size = () => strip.height() + 2 * STRIP_MARGIN;
  const widget = node.addDOMWidget("segmind_info", "segmind_info", strip.element, {
    // Display only: not in the saved workflow, not in the prompt sent to the server.
    serialize: false,
    hideOnZoom: true,
    margin: STRIP_MARGIN,
    getValue: () => "",
    setValue: () => {},
    getMinHeight: size,
    getMaxHeight: size,
  });
  widget.serialize = false;
  widget.beforeQueued = () => safely("recording the queued settings", () => recordQueued(node));
  stateOf(node).strip = strip;
  return widget;
}

/** For a frontend without DOM widgets: the same strip drawn on the canvas, as a still frame. */
function addCanvasStrip(node) {
  const widget = {
    name: "segmind_info",
    type: "segmind_info",
    value: "",
    serialize: false,
    options: { serialize: false },
    computeSize: (width) => [width ?? node.size?.[0] ?? 300, INFO_HEIGHT],
    draw(ctx, _node, width, y) {
      safely("drawing the info strip", () => {
        const info = stateOf(node).info ?? infoFor(node);
        const visual = visualParams(info.glyph);
        drawInfo(ctx, width, y, info, glyphFrame(visual, visual.moveSeconds * 0.6));
      });
    },
    beforeQueued: () => safely("recording the queued settings", () => recordQueued(node)),
  };
  const added = node.addCustomWidget(widget);
  const drawn = added ?? widget;
  // Nodes 2.0 repaints a canvas widget only when asked to: do so when its content changes.
  const original = node.setDirtyCanvas?.bind(node);
  stateOf(node).repaint = () => (typeof drawn.triggerDraw === "function" ? drawn.triggerDraw() : original?.(true, false));
  return drawn;
}

function attachStrip(node) {
  if (canAddDomWidget(node)) addDomStrip(node);
  else addCanvasStrip(node);
  nodes.add(node);
  const onRemoved = node.onRemoved;
  node.onRemoved = function () {
    nodes.delete(node);
    safely("removing the info strip", () => stateOf(node).strip?.destroy());
    return onRemoved?.apply(this, arguments);
  };
  // Wide enough for the info lines; a loaded workflow's saved size replaces this right after.
  const [width, height] = node.computeSize();
  node.setSize?.([Math.max(node.size?.[0] ?? 0, width, MIN_NODE_WIDTH), Math.max(node.size?.[1] ?? 0, height)]);
  refresh(node);
}

// ---- run states: the pack's event first, ComfyUI's core events as fallbacks ------------------------------------

function isNested(node) {
  return inSubgraph(node, rootGraph());
}

function nodesFor(eventNodeId) {
  return [...nodes].filter((node) => matchesNode(eventNodeId, node.id, isNested(node)));
}

function setRun(node, next) {
  const state = stateOf(node);
  if (next === state.run) return;
  state.run = next;
  const finished = finishedStatus(next);
  if (next?.state === "done") {
    if (finished) state.lastStatus = finished;
    state.lastParams = state.queued;
  }
  refresh(node);
}

function onPackStatus(detail) {
  if (!detail || typeof detail !== "object") return;
  for (const node of nodesFor(detail.node)) setRun(node, applyPackEvent(stateOf(node).run, detail));
}

function onCoreEvent(kind, detail) {
  const promptId = detail?.prompt_id ?? currentPromptId;
  for (const node of nodes) {
    const own = detail?.node_id !== undefined && matchesNode(detail.node_id, node.id, isNested(node));
    const next = applyCoreEvent(stateOf(node).run, kind, {
      promptId, own, paid: isPaid(node.comfyClass ?? node.type), reason: detail?.exception_message,
    });
    setRun(node, next);
  }
}

function onExecuting(detail) {
  const id = executingNodeId(detail);
  if (id === null) return;
  for (const node of nodesFor(id)) {
    setRun(node, applyCoreEvent(stateOf(node).run, "start", { promptId: currentPromptId }));
  }
}

function listen(type, handler) {
  if (typeof api?.addEventListener !== "function") return;
  api.addEventListener(type, (event) => safely(`handling ${type}`, () => handler(event?.detail)));
}

function listenForRuns() {
  listen(STATUS_EVENT, onPackStatus);
  listen("execution_start", (detail) => { currentPromptId = detail?.prompt_id ?? null; });
  listen("executing", onExecuting);
  listen("execution_interrupted", (detail) => onCoreEvent("interrupted", detail));
  listen("execution_error", (detail) => onCoreEvent("error", detail));
  listen("execution_success", (detail) => onCoreEvent("success", detail));
}

// ---- node types --------------------------------------------------------------------------------------------------

function patchNodeType(nodeType) {
  const proto = nodeType.prototype;
  const onNodeCreated = proto.onNodeCreated;
  proto.onNodeCreated = function () {
    const result = onNodeCreated?.apply(this, arguments);
    safely("setting the seed control to fixed", () => applyFixedSeedDefault(this));
    safely("keeping room for the motions", () => reserveMotionsRoom(this));
    safely("adding the info strip", () => attachStrip(this));
    return result;
  };

  const onExecuted = proto.onExecuted;
  proto.onExecuted = function (message) {
    const result = onExecuted?.apply(this, arguments);
    safely("reading the run's status", () => {
      const status = statusFromMessage(message);
      const state = stateOf(this);
      setRun(this, applyCoreEvent(state.run, "executed", { promptId: currentPromptId, status: status ?? state.lastStatus }));
    });
    return result;
  };

  const getExtraMenuOptions = proto.getExtraMenuOptions;
  proto.getExtraMenuOptions = function (canvas, options) {
    const result = getExtraMenuOptions?.apply(this, arguments);
    safely("adding menu items", () => {
      if (!isPaid(this.comfyClass ?? this.type) || !Array.isArray(options)) return;
      options.push(null,
        { content: "Segmind: test the API key (free)", callback: () => void runKeyTest() },
        { content: "Segmind: API key settings…", callback: () => void openKeySettings() });
    });
    return result;
  };
}

// ---- the key, the spend guard: commands and the Settings entries ------------------------------------------------

async function runKeyTest() {
  notify({ severity: "info", summary: "Testing the Segmind key…", detail: "A free credits look-up.", life: 3000 });
  notify(testToast(await testKey(api)));
}

async function showKeyStatus() {
  notify({ severity: "info", summary: "Segmind API key", detail: statusText(await fetchKeyStatus(api)) });
}

async function openKeySettings() {
  try {
    await openSettingsAt({ extensionManager: app.extensionManager, category: SETTINGS_CATEGORY, notify });
  } catch (error) {
    console.warn("[segmind-motionctrl] could not open Settings", error);
    notify({ severity: "info", summary: "Segmind MotionCtrl settings",
      detail: `Open Settings (the gear icon), then choose “${SETTINGS_CATEGORY}”.` });
  }
}

async function dropStaleSettingValue() {
  // Nothing of this pack writes the key into the settings store; clear whatever an older build or a hand edit
  // left there, because comfy.settings.json is served to any client.
  const setting = app.extensionManager?.setting;
  if (setting?.get(SETTING_KEY)) await setting.set(SETTING_KEY, "");
}

function renderSafely(what, build) {
  // Settings shows a failed render as an empty row; say something instead.
  return () => {
    try {
      return build();
    } catch (error) {
      console.warn(`[segmind-motionctrl] ${what} failed`, error);
      const note = document.createElement("div");
      note.textContent = `${what} is not available (see the browser console).`;
      return note;
    }
  };
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
      type: renderSafely("The key panel", () => buildKeyPanel({ api, notify })),
      defaultValue: "",
      sortOrder: 30,
    },
    {
      id: "SegmindMotionCtrl.Usage",
      category: [SETTINGS_CATEGORY, "Budget and usage", "Usage"],
      name: "Spent through this ComfyUI (approximate, at $0.089 a call)",
      tooltip: "Counted by the pack on the ComfyUI server for calls it sent; cached results cost nothing. " +
        "Segmind's own billing page is the authority.",
      type: renderSafely("Spend so far", () => buildUsagePanel({ store: spend })),
      defaultValue: "",
      sortOrder: 20,
    },
    {
      id: "SegmindMotionCtrl.MaxCallsPerRun",
      category: [SETTINGS_CATEGORY, "Budget and usage", "MaxCallsPerRun"],
      name: "Most Segmind calls one run may make",
      tooltip: "A run that would need more calls (images × segments) is refused before anything is paid.",
      type: renderSafely("The call limit", () => buildLimitPanel({ store: spend, name: "max_calls_per_run", notify })),
      defaultValue: "",
      sortOrder: 19,
    },
    {
      id: "SegmindMotionCtrl.DailyBudget",
      category: [SETTINGS_CATEGORY, "Budget and usage", "DailyBudget"],
      name: "Daily budget in dollars",
      tooltip: "Once today's spend would pass it, the paid nodes refuse to call Segmind until tomorrow. Empty: none.",
      type: renderSafely("The daily budget", () => buildLimitPanel({ store: spend, name: "daily_budget", notify })),
      defaultValue: "",
      sortOrder: 18,
    },
    {
      id: SETTING_ANIMATE,
      category: [SETTINGS_CATEGORY, "Nodes", "Animate"],
      name: "Animate the motion glyph on the nodes",
      tooltip: "Off: the glyph shows a still frame of the move.",
      type: "boolean",
      defaultValue: true,
      onChange: () => safely("updating the strips", refreshAll),
    },
  ],
  commands: [
    { id: "SegmindMotionCtrl.TestKey", label: "Segmind MotionCtrl: test the API key (free)", icon: "pi pi-key",
      function: runKeyTest },
    { id: "SegmindMotionCtrl.KeyStatus", label: "Segmind MotionCtrl: API key status", icon: "pi pi-info-circle",
      function: showKeyStatus },
    { id: "SegmindMotionCtrl.KeySettings", label: "Segmind MotionCtrl: API key settings…", icon: "pi pi-cog",
      function: openKeySettings },
  ],
  menuCommands: [
    { path: ["Extensions", "Segmind MotionCtrl"],
      commands: ["SegmindMotionCtrl.KeySettings", "SegmindMotionCtrl.TestKey", "SegmindMotionCtrl.KeyStatus"] },
  ],
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (NODE_TYPES.has(nodeData?.name)) safely("patching the node type", () => patchNodeType(nodeType));
  },
  async setup() {
    safely("adding the strip styles", () => ensureStripStyles(document));
    safely("listening for runs", listenForRuns);
    safely("starting the strip updates", () => setInterval(() => {
      if (!document.hidden) refreshAll();
    }, POLL_MS));
    safely("listening for limits", () => spend.subscribe(refreshAll));
    // Limits for the strips' "would be refused" line; an older backend has no route and nothing is shown.
    void spend.load();
    try {
      await dropStaleSettingValue();
    } catch (error) {
      console.warn("[segmind-motionctrl] could not clear a stale key setting", error);
    }
  },
});

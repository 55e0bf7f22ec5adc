// The spend guard in Settings → Segmind MotionCtrl → Budget and usage: what was spent, and the limits (editable
// unless an environment variable fixes them). The numbers live on the ComfyUI server; nothing here goes into the
// settings store. No side effects at import.

import {
  budgetLeftLine, LIMITS_ROUTE, limitFieldValue, limitNote, limitsToast, parseLimitInput, parseUsage, USAGE_ROUTE,
  usageLines,
} from "../lib/spend.js";
import { callRoute } from "./key_panel.js";
import { control, currentLook, panel, row } from "./look.js";

/**
 * One shared copy of GET /segmind_motionctrl/usage for the strips and the Settings rows. `load()` never throws:
 * a missing route (an older backend) leaves `usage` null and `available` false.
 */
export function createSpendStore(api) {
  const listeners = new Set();
  const store = {
    usage: null,
    available: null,
    loading: null,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(answer) {
      store.usage = parseUsage(answer);
      store.available = store.usage !== null;
      for (const fn of listeners) {
        try {
          fn(store.usage);
        } catch (error) {
          console.warn("[segmind-motionctrl] a spend listener failed", error);
        }
      }
    },
    load() {
      store.loading ??= callRoute(api, USAGE_ROUTE, "GET")
        .then(({ ok, answer }) => store.set(ok ? answer : null))
        .catch(() => store.set(null))
        .finally(() => { store.loading = null; });
      return store.loading;
    },
    async save(name, value) {
      try {
        const { ok, status, answer } = await callRoute(api, LIMITS_ROUTE, "POST", { [name]: value });
        if (ok && parseUsage(answer)) store.set(answer);
        else void store.load();
        return limitsToast(ok, answer, status);
      } catch (error) {
        return limitsToast(false, { error: `Could not reach ComfyUI: ${error?.message ?? error}` });
      }
    },
  };
  return store;
}

/** The "spent so far" row. */
export function buildUsagePanel({ store }) {
  const look = currentLook();
  const value = control(look, "note", { textContent: "Loading…", extraClass: "segmind-mc-value" });
  value.setAttribute("data-segmind-usage", "");
  const left = control(look, "note");
  const show = (usage) => {
    value.replaceChildren(...usageLines(usage).map((text) => {
      const line = document.createElement("div");
      line.textContent = text;
      return line;
    }));
    left.textContent = budgetLeftLine(usage) ?? "";
    left.hidden = !left.textContent;
  };
  const refresh = control(look, "button", { textContent: "Refresh", variant: "secondary" });
  refresh.addEventListener("click", () => void store.load());
  const stop = store.subscribe(show);
  const box = panel([row(value, refresh), left]);
  // The rows are rebuilt each time Settings shows them: stop listening once this one is gone.
  const unsubscribeWhenGone = () => setTimeout(() => (box.isConnected ? unsubscribeWhenGone() : stop()), 5000);
  unsubscribeWhenGone();
  if (store.usage) show(store.usage);
  void store.load();
  return box;
}

const FIELD = {
  max_calls_per_run: { placeholder: "16", step: "1", min: "1", label: "Most Segmind calls one run may make" },
  daily_budget: { placeholder: "none", step: "0.01", min: "0.01", label: "Daily budget in dollars" },
};

/** A row for one limit: number field, Save, and where its value comes from. */
export function buildLimitPanel({ store, name, notify }) {
  const look = currentLook();
  const spec = FIELD[name];
  const input = control(look, "input", {
    type: "number", inputMode: "decimal", step: spec.step, min: spec.min, placeholder: spec.placeholder,
    extraClass: "segmind-mc-number",
  });
  input.setAttribute("aria-label", spec.label);
  input.setAttribute("data-segmind-limit", name);
  const save = control(look, "button", { textContent: "Save", variant: "primary" });
  save.setAttribute("data-segmind-limit-save", name);
  const note = control(look, "note");
  note.setAttribute("data-segmind-limit-note", name);
  let dirty = false;
  input.addEventListener("input", () => { dirty = true; });

  const show = (usage) => {
    const entry = usage?.limits?.[name] ?? null;
    const fixed = entry?.source === "env";
    input.disabled = !usage || fixed;
    save.disabled = !usage || fixed;
    if (!dirty || fixed) input.value = limitFieldValue(entry);
    note.textContent = usage ? limitNote(name, entry) : "Not available: the pack's server side has no limits yet.";
  };
  const submit = async () => {
    const parsed = parseLimitInput(name, input.value);
    if (!parsed.ok) {
      notify({ severity: "error", summary: "Segmind limits not saved", detail: parsed.error });
      return;
    }
    save.disabled = true;
    const toast = await store.save(name, parsed.value);
    dirty = false;
    notify(toast);
    show(store.usage);
  };
  save.addEventListener("click", () => void submit());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") void submit();
  });
  const stop = store.subscribe(show);
  const box = panel([row(input, save), note]);
  const unsubscribeWhenGone = () => setTimeout(() => (box.isConnected ? unsubscribeWhenGone() : stop()), 5000);
  unsubscribeWhenGone();
  show(store.usage);
  if (store.available === null) void store.load();
  return box;
}

// The API key panel rendered inside ComfyUI's Settings dialog. It never hands the key to the settings store:
// a plain text setting would POST every keystroke to /api/settings (comfy.settings.json, readable by any
// client) before any onChange could clear it. The key goes only to the pack's route, once, on Save.
// No side effects at import.

import { saveToast, statusText, testToast, validateKey } from "../lib/key_setting.js";
import { control, currentLook, panel, row } from "./look.js";

export const KEY_ROUTE = "/segmind_motionctrl/key";

/** Calls one of the pack's routes with JSON (every state-changing route requires Content-Type: application/json). */
export async function callRoute(api, path, method, body) {
  const options = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await api.fetchApi(path, options);
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = { error: `HTTP ${response.status}: the pack's route did not answer with JSON.` };
  }
  return { ok: response.ok, status: response.status, answer };
}

export function fetchKeyStatus(api) {
  return callRoute(api, KEY_ROUTE, "GET").then(({ answer }) => answer).catch(() => null);
}

export async function testKey(api) {
  try {
    const { answer } = await callRoute(api, `${KEY_ROUTE}/test`, "POST");
    return answer;
  } catch (error) {
    return { ok: false, checked: false, message: `The test did not run: ${error?.message ?? error}` };
  }
}

/** Builds the panel; `notify({severity, summary, detail})` shows a toast. */
export function buildKeyPanel({ api, notify }) {
  const look = currentLook();
  const input = control(look, "input", {
    type: "password",
    autocomplete: "off",
    spellcheck: false,
    placeholder: "Paste your key",
    extraClass: "segmind-mc-key",
  });
  input.setAttribute("data-segmind-key-input", "");
  input.setAttribute("aria-label", "Segmind API key");
  const status = control(look, "note", { textContent: "Checking…" });
  status.setAttribute("data-segmind-key-status", "");
  const button = (label, action, variant, onClick) => {
    const node = control(look, "button", { textContent: label, variant });
    node.setAttribute("data-segmind-key-action", action);
    node.addEventListener("click", onClick);
    return node;
  };

  const refresh = async () => {
    status.textContent = statusText(await fetchKeyStatus(api));
  };

  const save = async () => {
    const checked = validateKey(input.value);
    if (!checked.ok) {
      notify({ severity: "error", summary: "Segmind key not saved", detail: checked.error });
      return;
    }
    try {
      const { ok, answer } = await callRoute(api, KEY_ROUTE, "POST", { key: checked.key });
      if (ok) input.value = "";
      notify(saveToast(ok, answer));
    } catch (error) {
      notify(saveToast(false, { error: `Could not reach ComfyUI: ${error?.message ?? error}` }));
    }
    await refresh();
  };

  const test = async () => {
    status.textContent = "Asking Segmind (free credits look-up)…";
    const answer = await testKey(api);
    notify(testToast(answer));
    status.textContent = answer?.message ?? statusText(null);
  };

  const remove = async () => {
    try {
      const { answer } = await callRoute(api, KEY_ROUTE, "DELETE");
      notify({
        severity: "info",
        summary: answer?.deleted ? "Saved Segmind key removed" : "No saved Segmind key to remove",
        detail: statusText(answer),
      });
    } catch (error) {
      notify({ severity: "error", summary: "Could not remove the key", detail: String(error?.message ?? error) });
    }
    await refresh();
  };

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") void save();
  });
  const box = panel([
    row(input, button("Save", "save", "primary", save)),
    row(button("Test key", "test", "secondary", test), button("Remove saved key", "remove", "secondary", remove)),
    status,
  ]);
  box.setAttribute("data-segmind-key-panel", look);
  void refresh();
  return box;
}

// The API key panel rendered inside ComfyUI's Settings dialog. It never hands the key to the settings store:
// a plain text setting would POST every keystroke to /api/settings (comfy.settings.json, readable by any
// client) before any onChange could clear it. The key goes only to the pack's route, once, on Save.
// No side effects at import.

import { saveToast, statusText, testToast, validateKey } from "../lib/key_setting.js";

export const KEY_ROUTE = "/segmind_motionctrl/key";

async function callRoute(api, path, method, body) {
  const options = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await api.fetchApi(path, options);
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = { error: `HTTP ${response.status}: the pack's route did not answer with JSON.` };
  }
  return { ok: response.ok, answer };
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

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function button(label, action, onClick) {
  const node = element("button", { type: "button", textContent: label, className: "p-button p-component p-button-sm" });
  node.setAttribute("data-segmind-key-action", action);
  node.style.padding = "4px 10px";
  node.addEventListener("click", onClick);
  return node;
}

/** Builds the panel; `notify({severity, summary, detail})` shows a toast. */
export function buildKeyPanel({ api, notify }) {
  const input = element("input", {
    type: "password",
    autocomplete: "off",
    spellcheck: false,
    placeholder: "Paste a Segmind API key",
    className: "p-inputtext p-component",
  });
  input.setAttribute("data-segmind-key-input", "");
  input.style.width = "15rem";
  const status = element("div", { textContent: "Checking…" });
  status.style.cssText = "font-size:12px;opacity:0.85;max-width:24rem;white-space:normal";
  status.setAttribute("data-segmind-key-status", "");

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
  const row = (...items) => {
    const node = element("div", {}, items);
    node.style.cssText = "display:flex;gap:6px;align-items:center;justify-content:flex-end;flex-wrap:wrap";
    return node;
  };
  const panel = element("div", {}, [
    row(input, button("Save", "save", save)),
    row(button("Test key", "test", test), button("Remove saved key", "remove", remove)),
    status,
  ]);
  panel.style.cssText = "display:flex;flex-direction:column;gap:6px;align-items:flex-end";
  void refresh();
  return panel;
}

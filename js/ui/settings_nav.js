// Opening Settings on the pack's category, with whatever the running frontend offers. No side effects at import.

import { categoryKey, settingsHint, settingsOpener, SETTINGS_COMMAND } from "../lib/frontend_compat.js";

const WAIT_MS = 3000;
const STEP_MS = 100;

function findNavItem(doc, key, label) {
  const byKey = [...doc.querySelectorAll("[data-nav-id]")].find((el) => el.getAttribute("data-nav-id") === key);
  if (byKey) return byKey;
  // Other layouts list the categories as options; match the visible label.
  return [...doc.querySelectorAll('[role="option"], [role="tab"], [role="menuitem"]')]
    .find((el) => el.textContent?.trim() === label) ?? null;
}

function waitFor(find, timeout = WAIT_MS) {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = () => {
      const found = find();
      if (found || Date.now() - started > timeout) resolve(found ?? null);
      else setTimeout(tick, STEP_MS);
    };
    tick();
  });
}

/**
 * Opens Settings at `category`. 1.27: showSettingsDialog(key) goes there directly. 1.58 has no such call: the
 * Comfy.ShowSettingsDialog command opens Settings and the category's entry is clicked. Whatever cannot be done
 * ends in a toast saying where to go. Returns how it went: "category" | "settings" | "hint".
 */
export async function openSettingsAt({ extensionManager, category, notify, doc = document }) {
  const key = categoryKey(category);
  let how = settingsOpener(extensionManager);
  if (how === "dialog") {
    try {
      extensionManager.dialog.showSettingsDialog(key);
      return "category";
    } catch (error) {
      console.warn("[segmind-motionctrl] showSettingsDialog failed; trying the Settings command", error);
      how = typeof extensionManager?.command?.execute === "function" ? "command" : "none";
    }
  }
  if (how === "command") {
    await extensionManager.command.execute(SETTINGS_COMMAND);
    const item = await waitFor(() => findNavItem(doc, key, category));
    if (item) {
      item.click();
      return "category";
    }
    notify({ severity: "info", summary: "Segmind MotionCtrl settings", detail: settingsHint(category, true) });
    return "settings";
  }
  notify({ severity: "info", summary: "Segmind MotionCtrl settings", detail: settingsHint(category, false) });
  return "hint";
}

// Checks and words for the API key panel in Settings. Pure module: the same rules as nodes/common/api_key.py,
// applied in the browser first so an obviously wrong paste never leaves the page.

export const MIN_KEY_LENGTH = 8;
export const MAX_KEY_LENGTH = 256;
const QUOTES = new Set(['"', "'"]);

/** Whitespace and surrounding quotes off, as the server's clean_key (Windows `set KEY="..."` keeps quotes). */
export function cleanKey(raw) {
  let key = typeof raw === "string" ? raw.trim() : "";
  while (key.length >= 2 && key[0] === key[key.length - 1] && QUOTES.has(key[0])) {
    key = key.slice(1, -1).trim();
  }
  return key;
}

// Visible ASCII only, and no quotes or backslashes: those come from pasting a quoted string, never from a key.
const FORBIDDEN = new Set(['"', "'", "`", "\\"]);

function plausibleCharacters(text) {
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (code < 0x21 || code > 0x7e || FORBIDDEN.has(ch)) return false;
  }
  return true;
}

/** { ok: true, key } or { ok: false, error }; the error never quotes the key. */
export function validateKey(raw) {
  const key = cleanKey(raw);
  if (!key) return { ok: false, error: "Paste a Segmind API key first." };
  if (key.length > MAX_KEY_LENGTH) {
    return { ok: false, error: `That is ${key.length} characters long; a Segmind key is about 20. Paste only the key.` };
  }
  if (key.length < MIN_KEY_LENGTH) {
    return { ok: false, error: `That is only ${key.length} characters long; paste the whole key.` };
  }
  if (!plausibleCharacters(key)) {
    return { ok: false, error: "The key contains spaces, quotes, line breaks or other characters a Segmind key never has." };
  }
  return { ok: true, key };
}

/** "…abcd" for display; short strings show nothing of themselves. */
export function maskKey(key, visible = 4) {
  const text = typeof key === "string" ? key : "";
  return text.length >= 12 ? `…${text.slice(-visible)}` : "…";
}

/** One line for the panel from GET /segmind_motionctrl/key. */
export function statusText(status) {
  if (!status || typeof status !== "object") return "Key status unknown (the pack's server routes did not answer).";
  // A value the node would refuse (say, a comment in the key file): the server's words name the place and the fix.
  if (status.problem) return status.problem;
  if (!status.set) return "No key set. Paste one and press Save.";
  if (status.source === "env") {
    const extra = status.file_set ? " A saved key exists but is not used while the variable is set." : "";
    return `Using SEGMIND_API_KEY from ComfyUI's environment (ends in ${status.hint}).${extra}`;
  }
  return `Key saved on the ComfyUI server, ends in ${status.hint}.`;
}

/** A toast (severity, summary, detail) for the answer to POST /segmind_motionctrl/key. */
export function saveToast(ok, answer) {
  if (!ok) return { severity: "error", summary: "Segmind key not saved", detail: answer?.error ?? "The server refused it." };
  const detail = `Saved, ends in ${answer.hint}.` + (answer.warning ? ` ${answer.warning}` : "");
  return { severity: answer.warning ? "warn" : "success", summary: "Segmind key saved", detail };
}

/** A toast for the answer to POST /segmind_motionctrl/key/test. */
export function testToast(answer) {
  if (answer?.ok) return { severity: "success", summary: "Segmind key works", detail: answer.message };
  const summary = answer?.checked ? "Segmind key rejected" : "Segmind key not tested";
  return { severity: answer?.checked ? "error" : "warn", summary, detail: answer?.message ?? "No answer." };
}

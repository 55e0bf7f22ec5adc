import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cleanKey, maskKey, MAX_KEY_LENGTH, saveToast, statusText, testToast, validateKey,
} from "../../js/lib/key_setting.js";

const KEY = "SG_fake0123456789abcdef";

test("keys are cleaned like the server does (whitespace and surrounding quotes)", () => {
  assert.equal(cleanKey(`  ${KEY}\n`), KEY);
  assert.equal(cleanKey(`"${KEY}"`), KEY);
  assert.equal(cleanKey(` ' "${KEY}" ' `), KEY);
  assert.equal(cleanKey(`"${KEY}'`), `"${KEY}'`); // unbalanced quotes are left for validation to refuse
  assert.equal(cleanKey(undefined), "");
  assert.equal(cleanKey(42), "");
});

test("a plausible key passes, cleaned", () => {
  assert.deepEqual(validateKey(` "${KEY}" `), { ok: true, key: KEY });
});

test("bad keys are refused without quoting them", () => {
  const bad = {
    empty: "",
    blank: "   \t ",
    quotes: '""',
    short: "SG_12",
    long: "A".repeat(MAX_KEY_LENGTH + 1),
    "space inside": "SG_fake0123 456789abcdef",
    newline: `${KEY}\nSG_other123456`,
    "control char": "SG_fake0123\u0000456789",
    "non-ascii": "SG_fake0123456789abcdéf",
    "unbalanced quotes": `"${KEY}'`,
  };
  for (const [why, raw] of Object.entries(bad)) {
    const result = validateKey(raw);
    assert.equal(result.ok, false, why);
    assert.ok(result.error.length > 10, why);
    assert.ok(!raw.trim() || !result.error.includes(raw.trim()), why);
    assert.equal(result.key, undefined, why);
  }
});

test("masking shows only the last four characters of a real-length key", () => {
  assert.equal(maskKey(KEY), "…cdef");
  assert.equal(maskKey("short123"), "…");
  assert.equal(maskKey(null), "…");
});

test("status lines", () => {
  assert.match(statusText({ set: false, hint: null, source: null }), /No key set/);
  assert.equal(statusText({ set: true, hint: "…cdef", source: "file", file_set: true }),
    "Key saved on the ComfyUI server, ends in …cdef.");
  const env = statusText({ set: true, hint: "…3333", source: "env", file_set: true });
  assert.match(env, /SEGMIND_API_KEY/);
  assert.match(env, /…3333/);
  assert.match(env, /saved key exists but is not used/);
  assert.match(statusText(null), /unknown/);
  const refused = "Invalid Segmind API key: the key file /x/api_key.txt holds more than one line.";
  assert.equal(statusText({ set: false, hint: null, source: "file", file_set: false, problem: refused }), refused);
});

test("toasts for saving", () => {
  assert.deepEqual(saveToast(true, { set: true, hint: "…cdef", source: "file" }),
    { severity: "success", summary: "Segmind key saved", detail: "Saved, ends in …cdef." });
  const overridden = saveToast(true, { set: true, hint: "…cdef", source: "env", warning: "SEGMIND_API_KEY is set…" });
  assert.equal(overridden.severity, "warn");
  assert.match(overridden.detail, /SEGMIND_API_KEY/);
  assert.deepEqual(saveToast(false, { error: "The key is empty." }),
    { severity: "error", summary: "Segmind key not saved", detail: "The key is empty." });
  assert.equal(saveToast(false, null).severity, "error");
});

test("toasts for testing", () => {
  assert.equal(testToast({ ok: true, checked: true, message: "accepted" }).severity, "success");
  assert.equal(testToast({ ok: false, checked: true, message: "nope" }).summary, "Segmind key rejected");
  const untested = testToast({ ok: false, checked: false, message: "cannot be checked for free" });
  assert.equal(untested.severity, "warn");
  assert.equal(untested.summary, "Segmind key not tested");
  assert.equal(testToast(null).detail, "No answer.");
});

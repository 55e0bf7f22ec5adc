// The spend guard's answers (GET /segmind_motionctrl/usage, POST /segmind_motionctrl/limits) in Settings' words.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  budgetLeftLine, limitFieldValue, limitNote, limitsToast, parseLimitInput, parseUsage, stripLimits, usageLine,
  usageLines,
} from "../../js/lib/spend.js";

const USAGE = {
  today: { spent: 0.178, calls: 2 }, month: { spent: 1.2, calls: 14 },
  limits: { max_calls_per_run: { value: 16, source: "default" }, daily_budget: { value: null, source: "default" } },
  price_per_call: 0.089,
};

test("a usage answer in the announced shape is read; anything else is 'not available'", () => {
  assert.deepEqual(parseUsage(USAGE), {
    today: { spent: 0.178, calls: 2 }, month: { spent: 1.2, calls: 14 },
    limits: { max_calls_per_run: { value: 16, source: "default" }, daily_budget: { value: null, source: "default" } },
    pricePerCall: 0.089,
  });
  for (const bad of [null, "<html>404</html>", { error: "no" }, {}, { ...USAGE, today: { spent: "x", calls: 1 } },
    { ...USAGE, limits: {} }, { ...USAGE, limits: { ...USAGE.limits, daily_budget: { value: "lots" } } }]) {
    assert.equal(parseUsage(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseUsage({ ...USAGE, limits: { ...USAGE.limits, daily_budget: { value: 5, source: "weird" } } })
    .limits.daily_budget.source, "default");
});

test("the strips get the per-run call limit, or null when unknown", () => {
  assert.deepEqual(stripLimits(parseUsage(USAGE)), { maxCallsPerRun: 16 });
  assert.deepEqual(stripLimits(null), { maxCallsPerRun: null });
  const none = parseUsage({ ...USAGE, limits: { ...USAGE.limits, max_calls_per_run: { value: null, source: "settings" } } });
  assert.deepEqual(stripLimits(none), { maxCallsPerRun: null });
});

test("spend lines", () => {
  const usage = parseUsage(USAGE);
  assert.equal(usageLine(usage), "today $0.178 (2 calls) · this month $1.20 (14 calls)");
  assert.deepEqual(usageLines(usage), ["today: $0.178 (2 calls)", "this month: $1.20 (14 calls)"]);
  assert.deepEqual(usageLines(parseUsage({ ...USAGE, today: { spent: 0, calls: 1 } })).slice(0, 1), ["today: $0 (1 call)"]);
  assert.match(usageLine(null), /did not answer/);
  assert.equal(usageLines(null).length, 1);
  assert.equal(budgetLeftLine(usage), null);
  const budget = parseUsage({ ...USAGE, limits: { ...USAGE.limits, daily_budget: { value: 5, source: "settings" } } });
  assert.equal(budgetLeftLine(budget), "$4.82 of $5.00 left today");
  const over = parseUsage({ ...USAGE, today: { spent: 6, calls: 70 }, limits: { ...USAGE.limits, daily_budget: { value: 5, source: "env" } } });
  assert.equal(budgetLeftLine(over), "$0 of $5.00 left today");
});

test("each limit says where its value comes from; an environment variable cannot be changed here", () => {
  assert.equal(limitNote("max_calls_per_run", { value: 16, source: "default" }), "Default.");
  assert.match(limitNote("max_calls_per_run", { value: 20, source: "settings" }), /^Saved here/);
  assert.match(limitNote("max_calls_per_run", { value: 8, source: "env" }), /environment variable.*change it there/);
  assert.match(limitNote("daily_budget", { value: 5, source: "env" }), /environment variable/);
  assert.match(limitNote("daily_budget", { value: null, source: "default" }), /^No daily budget/);
  assert.match(limitNote("daily_budget", { value: 5, source: "settings" }), /no budget/);
  assert.equal(limitNote("daily_budget", null), "");
  assert.equal(limitFieldValue({ value: 16 }), "16");
  assert.equal(limitFieldValue({ value: null }), "");
  assert.equal(limitFieldValue(undefined), "");
});

test("typed limits are checked before they are sent; empty clears back to the default", () => {
  assert.deepEqual(parseLimitInput("max_calls_per_run", " 20 "), { ok: true, value: 20 });
  assert.deepEqual(parseLimitInput("max_calls_per_run", ""), { ok: true, value: null });
  assert.deepEqual(parseLimitInput("daily_budget", "5"), { ok: true, value: 5 });
  assert.deepEqual(parseLimitInput("daily_budget", "2.505"), { ok: true, value: 2.51 });
  assert.deepEqual(parseLimitInput("daily_budget", "   "), { ok: true, value: null });
  for (const [name, raw] of [["max_calls_per_run", "0"], ["max_calls_per_run", "2.5"], ["max_calls_per_run", "-3"],
    ["max_calls_per_run", "lots"], ["max_calls_per_run", "1e3"], ["daily_budget", "0"], ["daily_budget", "$5"],
    ["other", "1"]]) {
    const parsed = parseLimitInput(name, raw);
    assert.equal(parsed.ok, false, `${name}=${raw}`);
    assert.ok(parsed.error.length > 10);
  }
});

test("toasts for saving limits", () => {
  assert.equal(limitsToast(true, USAGE).severity, "success");
  assert.deepEqual(limitsToast(false, { error: "daily_budget is set by an environment variable" }, 403),
    { severity: "error", summary: "Segmind limits not saved", detail: "daily_budget is set by an environment variable" });
  assert.match(limitsToast(false, null, 404).detail, /no limits yet/);
  assert.match(limitsToast(true, { something: "else" }).detail, /refused/);
});

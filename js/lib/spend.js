// The spend guard's numbers and limits, read from GET /segmind_motionctrl/usage and written with
// POST /segmind_motionctrl/limits, in the words shown in Settings. Pure module.
//
// usage: {"today": {"spent": 0.178, "calls": 2}, "month": {"spent": 1.2, "calls": 14},
//         "limits": {"max_calls_per_run": {"value": 16, "source": "default"|"env"|"settings"},
//                    "daily_budget": {"value": null | 5.0, "source": ...}}, "price_per_call": 0.089}

import { formatUsd } from "./cost.js";

export const USAGE_ROUTE = "/segmind_motionctrl/usage";
export const LIMITS_ROUTE = "/segmind_motionctrl/limits";
export const LIMITS = ["max_calls_per_run", "daily_budget"];
const SOURCES = new Set(["default", "env", "settings"]);
const MAX_CALLS_CAP = 100000;

function period(value) {
  const spent = Number(value?.spent);
  const calls = Number(value?.calls);
  if (!Number.isFinite(spent) || !Number.isFinite(calls)) return null;
  return { spent, calls: Math.round(calls) };
}

function limit(value) {
  if (!value || typeof value !== "object") return null;
  const v = value.value;
  const number = v === null || v === undefined ? null : Number(v);
  if (number !== null && !Number.isFinite(number)) return null;
  return { value: number, source: SOURCES.has(value.source) ? value.source : "default" };
}

/** The usage answer in a checked shape, or null when it is not one (route missing, older backend, error). */
export function parseUsage(answer) {
  if (!answer || typeof answer !== "object" || answer.error) return null;
  const today = period(answer.today);
  const month = period(answer.month);
  const maxCalls = limit(answer.limits?.max_calls_per_run);
  const budget = limit(answer.limits?.daily_budget);
  if (!today || !month || !maxCalls || !budget) return null;
  const price = Number(answer.price_per_call);
  return {
    today, month,
    limits: { max_calls_per_run: maxCalls, daily_budget: budget },
    pricePerCall: Number.isFinite(price) ? price : null,
  };
}

/** What the node strips need from it: the per-run call limit (null = unknown or none). */
export function stripLimits(usage) {
  const value = usage?.limits?.max_calls_per_run?.value;
  return { maxCallsPerRun: typeof value === "number" && Number.isFinite(value) ? value : null };
}

function calls(n) {
  return `${n} call${n === 1 ? "" : "s"}`;
}

/** "today $0.178 (2 calls) · this month $1.20 (14 calls)". */
export function usageLine(usage) {
  if (!usage) return "Spend tracking did not answer (the pack's server side may be older than this page).";
  const { today, month } = usage;
  return `today ${formatUsd(today.spent)} (${calls(today.calls)}) · this month ${formatUsd(month.spent)} (${calls(month.calls)})`;
}

/** The same as two lines (today, this month) for Settings; one line when tracking did not answer. */
export function usageLines(usage) {
  if (!usage) return [usageLine(null)];
  const { today, month } = usage;
  return [`today: ${formatUsd(today.spent)} (${calls(today.calls)})`, `this month: ${formatUsd(month.spent)} (${calls(month.calls)})`];
}

/** The remaining daily budget line, or null without a budget. */
export function budgetLeftLine(usage) {
  const budget = usage?.limits?.daily_budget?.value;
  if (typeof budget !== "number") return null;
  const left = Math.max(0, budget - usage.today.spent);
  return `${formatUsd(left)} of ${formatUsd(budget)} left today`;
}

/** A short note under a limit's field: where its value comes from. */
export function limitNote(name, entry) {
  if (!entry) return "";
  if (entry.source === "env") return "Set by an environment variable on the ComfyUI server; change it there.";
  if (name === "daily_budget") {
    if (entry.value === null) return "No daily budget. Empty = none.";
    return entry.source === "settings" ? "Saved here. Empty + Save = no budget." : "Default.";
  }
  if (entry.source === "settings") return "Saved here. Empty + Save = back to the default.";
  return entry.value === null ? "No limit." : "Default.";
}

/** The field's text for a limit's current value. */
export function limitFieldValue(entry) {
  return entry?.value === null || entry?.value === undefined ? "" : String(entry.value);
}

/**
 * The typed text of a limit field -> { ok: true, value } (null = clear back to the default) or
 * { ok: false, error } with words for a toast.
 */
export function parseLimitInput(name, raw) {
  const text = String(raw ?? "").trim();
  if (!text) return { ok: true, value: null };
  if (!/^\d+(?:\.\d+)?$|^\.\d+$/.test(text)) {
    return { ok: false, error: name === "daily_budget" ? "Type an amount in dollars, e.g. 5 or 2.50." : "Type a whole number, e.g. 16." };
  }
  const value = Number(text);
  if (name === "max_calls_per_run") {
    if (!Number.isInteger(value) || value < 1 || value > MAX_CALLS_CAP) {
      return { ok: false, error: `Type a whole number from 1 to ${MAX_CALLS_CAP}.` };
    }
    return { ok: true, value };
  }
  if (name === "daily_budget") {
    if (!(value > 0)) return { ok: false, error: "A daily budget must be above $0; leave it empty for none." };
    return { ok: true, value: Math.round(value * 100) / 100 };
  }
  return { ok: false, error: `Unknown limit ${name}.` };
}

/** A toast for the answer to POST /segmind_motionctrl/limits. */
export function limitsToast(ok, answer, status = null) {
  if (ok && parseUsage(answer)) return { severity: "success", summary: "Segmind limits saved", detail: usageLine(parseUsage(answer)) };
  const why = answer?.error ?? (status === 404 ? "This version of the pack's server side has no limits yet." : "The server refused it.");
  return { severity: "error", summary: "Segmind limits not saved", detail: why };
}

// End states of a run: the pack's `segmind_motionctrl.status` event, and ComfyUI's core events as fallbacks.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyCoreEvent, applyPackEvent, fallbackText, finishedStatus, matchesNode, shortReason, STATES,
} from "../../js/lib/run_state.js";

const pack = (state, text, prompt_id = "p1", node = "2") => ({ node, state, text, prompt_id });

test("event node ids: plain ids for root nodes, the last path element inside subgraphs", () => {
  assert.equal(matchesNode("7", 7, false), true);
  assert.equal(matchesNode(7, "7", undefined), true);
  assert.equal(matchesNode("7", 8, false), false);
  assert.equal(matchesNode("12:7", 7, true), true);
  assert.equal(matchesNode("3:12:7", "7", true), true);
  assert.equal(matchesNode("12:7", 7, false), false); // a root node 7 is not the nested 12:7
  assert.equal(matchesNode("7", 7, true), false); // nor the other way round
  assert.equal(matchesNode("12:7", 7, undefined), true); // nesting unknown: the last element decides
  assert.equal(matchesNode(null, 7, false), false);
  assert.equal(matchesNode("", 7, false), false);
  assert.equal(matchesNode("7", undefined, false), false);
});

test("the pack's event sets every state with its text", () => {
  assert.deepEqual(STATES, ["running", "done", "cancelled", "failed", "kept"]);
  const texts = {
    running: "Segmind: 2/3 done, processing 41 s (usually ~60 s)",
    done: "Segmind: 1 clip in 64 s, $0.089, credits left 12.34",
    cancelled: "cancelled — the paid video will be kept when it arrives",
    failed: "failed: Segmind did not accept the API key",
    kept: "the video that arrived after the cancel was kept; running again uses it (free)",
  };
  for (const [state, text] of Object.entries(texts)) {
    assert.deepEqual(applyPackEvent(null, pack(state, text)), { state, text, promptId: "p1", source: "pack" });
  }
  assert.equal(applyPackEvent(null, pack("done", "  ")).text, null);
  assert.equal(finishedStatus(applyPackEvent(null, pack("done", texts.done))), texts.done);
  assert.equal(finishedStatus(applyPackEvent(null, pack("kept", texts.kept))), null);
});

test("invalid pack events change nothing", () => {
  const prev = applyPackEvent(null, pack("running", "x"));
  for (const detail of [null, {}, { state: "exploded" }, pack("Done", "x")]) {
    assert.equal(applyPackEvent(prev, detail), prev);
  }
});

test("while a newer prompt runs, end states of an older one are not shown over it", () => {
  const running = applyPackEvent(null, pack("running", "Segmind: submitting", "p2"));
  assert.equal(applyPackEvent(running, pack("kept", "late video kept", "p1")), running);
  assert.equal(applyPackEvent(running, pack("done", "late", "p1")), running);
  assert.equal(applyPackEvent(running, pack("done", "now", "p2")).text, "now");
  // A kept answer after the cancel of the same prompt replaces "cancelled".
  const cancelled = applyPackEvent(null, pack("cancelled", "cancelled — the paid video will be kept when it arrives"));
  assert.equal(applyPackEvent(cancelled, pack("kept", "kept")).state, "kept");
});

test("cancel without the pack's event: the named node, and every node still running in that prompt", () => {
  const start = applyCoreEvent(null, "start", { promptId: "p1" });
  assert.deepEqual(start, { state: "running", text: null, promptId: "p1", source: "core" });
  const own = applyCoreEvent(start, "interrupted", { promptId: "p1", own: true, paid: true });
  assert.equal(own.state, "cancelled");
  assert.equal(own.text, "cancelled — anything already paid for is kept; running again uses it");
  // ComfyUI names only one of several waiting async nodes: the others were running in the same prompt.
  const other = applyCoreEvent(start, "interrupted", { promptId: "p1", own: false, paid: false });
  assert.equal(other.text, "cancelled");
  // A node that was not running in that prompt keeps what it showed.
  const done = applyCoreEvent(null, "executed", { promptId: "p0", status: "Segmind: 1 clip in 64 s, $0.089" });
  assert.equal(applyCoreEvent(done, "interrupted", { promptId: "p1", own: false }), done);
  assert.equal(applyCoreEvent(null, "interrupted", { promptId: "p1", own: false }), null);
});

test("errors without the pack's event: failed with a short reason, or stopped by another node", () => {
  const start = applyCoreEvent(null, "start", { promptId: "p1" });
  const failed = applyCoreEvent(start, "error", {
    promptId: "p1", own: true,
    reason: "No Segmind API key found. Paste it in ComfyUI's Settings > Segmind MotionCtrl, or set SEGMIND_API_KEY.",
  });
  assert.deepEqual(failed, { state: "failed", text: "failed: No Segmind API key found.", promptId: "p1", source: "core" });
  const stopped = applyCoreEvent(start, "error", { promptId: "p1", own: false, paid: true });
  assert.equal(stopped.state, "cancelled");
  assert.match(stopped.text, /^stopped: another node failed; anything already paid for is kept$/);
  assert.equal(applyCoreEvent(null, "error", { promptId: "p1", own: false }), null);
});

test("the pack's end state wins over a later core fallback of the same prompt, not over a new prompt", () => {
  const packCancelled = applyPackEvent(null, pack("cancelled", "cancelled — nothing was billed"));
  assert.equal(applyCoreEvent(packCancelled, "interrupted", { promptId: "p1", own: true, paid: true }), packCancelled);
  assert.equal(applyCoreEvent(packCancelled, "error", { promptId: "p1", own: true, reason: "x" }), packCancelled);
  assert.equal(applyCoreEvent(packCancelled, "start", { promptId: "p2" }).state, "running");
  // A running state from the pack is still ended by the core fallback (its own end event may be lost).
  const packRunning = applyPackEvent(null, pack("running", "Segmind: processing 41 s"));
  assert.equal(applyCoreEvent(packRunning, "interrupted", { promptId: "p1", own: false }).state, "cancelled");
  // ...and the pack's own event afterwards replaces the fallback's words.
  const fallback = applyCoreEvent(packRunning, "interrupted", { promptId: "p1", own: true, paid: true });
  assert.equal(applyPackEvent(fallback, pack("cancelled", "cancelled — the paid video will be kept when it arrives")).text,
    "cancelled — the paid video will be kept when it arrives");
});

test("executed and success end a run as done", () => {
  const start = applyCoreEvent(null, "start", { promptId: "p1" });
  assert.equal(applyCoreEvent(start, "start", { promptId: "p1" }), start);
  const executed = applyCoreEvent(start, "executed", { promptId: "p1", status: "Segmind: 1 clip in 64 s, $0.089" });
  assert.deepEqual(executed, { state: "done", text: "Segmind: 1 clip in 64 s, $0.089", promptId: "p1", source: "core" });
  assert.equal(applyCoreEvent(executed, "success", { promptId: "p1" }), executed);
  assert.deepEqual(applyCoreEvent(start, "success", { promptId: "p1" }), { state: "done", text: null, promptId: "p1", source: "core" });
  assert.equal(applyCoreEvent(null, "success", { promptId: "p1" }), null);
  assert.equal(applyCoreEvent(start, "unknown-kind", {}), start);
});

test("short reasons: first line, no exception class, first sentence, at most 80 characters", () => {
  assert.equal(shortReason("RuntimeError: Segmind did not accept the API key (HTTP 401). Copy it again."),
    "Segmind did not accept the API key (HTTP 401).");
  assert.equal(shortReason("\n  Exception: boom\ntraceback..."), "boom");
  assert.equal(shortReason("segmind.errors.SegmindError: Not enough Segmind credits"), "Not enough Segmind credits");
  assert.equal(shortReason("x".repeat(200)).length, 80);
  assert.ok(shortReason("x".repeat(200)).endsWith("…"));
  assert.equal(shortReason("v1.2 is fine. More."), "v1.2 is fine. More."); // a sentence under 20 chars is kept whole
  assert.match(shortReason(undefined), /^unknown error/);
  assert.match(shortReason(""), /^unknown error/);
});

test("fallback words for each end state", () => {
  assert.equal(fallbackText("cancelled"), "cancelled");
  assert.match(fallbackText("cancelled", { paid: true }), /already paid for is kept; running again uses it/);
  assert.equal(fallbackText("stopped"), "stopped: another node failed");
  assert.equal(fallbackText("failed", { reason: "ValueError: bad fps" }), "failed: bad fps");
  assert.equal(fallbackText("running"), "running…");
  assert.equal(fallbackText("other"), null);
});

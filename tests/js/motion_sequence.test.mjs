// The sequence nodes' `motions` text, parsed by the rules the Python side uses (js/lib/motion_sequence.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { DRIFT_FROM_SEGMENT, drifts, MAX_SEGMENTS, parseMotions } from "../../js/lib/motion_sequence.js";

test("motions: the example parses into three segments, speed 1 when left out", () => {
  assert.deepEqual(parseMotions("Pan Left 1.5, Zoom In\nCW 0.5"), {
    ok: true,
    segments: [{ motion: "Pan Left", speed: 1.5 }, { motion: "Zoom In", speed: 1 }, { motion: "CW", speed: 0.5 }],
  });
});

test("motions: names ignore case and extra spaces; blank segments and CRLF are skipped", () => {
  const parsed = parseMotions("  pan   LEFT\t2 ,, \r\n\nzoom out .5,\nacw 0,");
  assert.deepEqual(parsed.segments, [
    { motion: "Pan Left", speed: 2 }, { motion: "Zoom Out", speed: 0.5 }, { motion: "ACW", speed: 0 },
  ]);
  assert.deepEqual(parseMotions("CW 10").segments, [{ motion: "CW", speed: 10 }]);
  assert.deepEqual(parseMotions("CW 2.").segments, [{ motion: "CW", speed: 2 }]);
});

test("motions: each problem is named, with the segment it is in", () => {
  const problems = {
    "": /^empty; write e\.g\. "Pan Left 1\.5, Zoom In"$/,
    " , \n ": /^empty/,
    "Pan Left, Spin 2": /^"Spin" is not a motion \(segment 2\)$/,
    "Pan Left 1.5 fast": /^"Pan Left 1\.5 fast" is not a motion \(segment 1\)$/,
    "1.5": /^"1\.5" has no motion name \(segment 1\)$/,
    "CW 11": /^speed 11 is outside 0–10 \(segment 1\)$/,
    "CW -1": /^speed -1 is outside 0–10 \(segment 1\)$/,
    "CW 1e1": /^"CW 1e1" is not a motion/,
    "PanLeft 1": /^"PanLeft" is not a motion/,
  };
  for (const [text, error] of Object.entries(problems)) {
    const parsed = parseMotions(text);
    assert.equal(parsed.ok, false, JSON.stringify(text));
    assert.match(parsed.error, error, JSON.stringify(text));
    assert.equal(parsed.segments, undefined);
  }
  assert.match(parseMotions(`${"A very long made-up camera move name ".repeat(2)}`).error, /^".{23}…" is not a motion/);
  assert.deepEqual(parseMotions(undefined), { ok: false, error: "not text" });
  assert.deepEqual(parseMotions(42), { ok: false, error: "not text" });
});

test("motions: 1 to 8 segments; the drift note starts at the 5th", () => {
  assert.equal(MAX_SEGMENTS, 8);
  assert.equal(parseMotions(Array(8).fill("CW").join(",")).segments.length, 8);
  assert.deepEqual(parseMotions(Array(9).fill("CW").join("\n")), { ok: false, error: "9 segments, at most 8" });
  assert.equal(DRIFT_FROM_SEGMENT, 5);
  assert.equal(drifts(4), false);
  assert.equal(drifts(5), true);
  assert.equal(drifts(undefined), false);
});

test("motions: the cases shared with the Python parser (tests/motions_cases.json) give the same segments", async () => {
  const { readFile } = await import("node:fs/promises");
  const { cases } = JSON.parse(await readFile(new URL("../motions_cases.json", import.meta.url), "utf8"));
  for (const [text, expected] of cases) {
    const parsed = parseMotions(text);
    const got = parsed.ok ? parsed.segments.map((s) => [s.motion, s.speed]) : null;
    assert.deepEqual(got, expected, JSON.stringify(text));
  }
});

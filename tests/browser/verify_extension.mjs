// node tests/browser/verify_extension.mjs --url http://127.0.0.1:8188 --vue on|off --out DIR [--only step,step]
// The browser checks of the extension (issue 12's list) against a running ComfyUI with this pack installed and
// SEGMIND_BASE_URL pointing at tests/fake_segmind.py (jobs of ~8 s). Not part of the suite: see README.md here.
// Steps: workflows, glyph, randomize, run, cancel, keypanel, spend, refused. Writes DIR/report.json + screenshots.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]?.startsWith("--") ? "1" : all[i + 1]]);
  return acc;
}, []));
const URL_ = args.url ?? "http://127.0.0.1:8188";
const VUE = args.vue === "on";
const OUT = args.out ?? "/tmp/verify";
const ONLY = args.only ? new Set(args.only.split(",")) : null;
const WF = fileURLToPath(new URL("../../example_workflows", import.meta.url));
// The key the fake server accepts (one place: tests/fake_segmind.py); the panel saves, tests and removes it.
const FAKE = fs.readFileSync(fileURLToPath(new URL("../fake_segmind.py", import.meta.url)), "utf8");
const TEST_KEY = args.key ?? /^TEST_KEY = "([^"]+)"/m.exec(FAKE)[1];
fs.mkdirSync(OUT, { recursive: true });
const report = { url: URL_, vue: VUE, steps: {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function setSetting(id, value) {
  await fetch(`${URL_}/settings/${id}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });
}
await setSetting("Comfy.VueNodes.Enabled", VUE);
await setSetting("Comfy.TutorialCompleted", true);
await setSetting("Comfy.Workflow.ShowMissingModelsWarning", false);

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "chr-"));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1600, height: 1000 },
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync"],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error" || /segmind/i.test(m.text())) consoleErrors.push(`${m.type()}: ${m.text()}`); });
page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
await page.goto(URL_);
await page.waitForFunction(() => window.app?.graph && window.app.extensions?.some?.((e) => e.name === "segmind.motionctrl"), null, { timeout: 60000 });
await sleep(2000);
await page.keyboard.press("Escape").catch(() => {});
report.frontend = await page.evaluate(() => window.__COMFYUI_FRONTEND_VERSION__ ?? null);

async function load(file) {
  const json = JSON.parse(fs.readFileSync(path.join(WF, file), "utf8"));
  await page.evaluate(async (j) => { await window.app.loadGraphData(j); }, json);
  await sleep(1500);
}
async function strips() {
  return page.evaluate(() => (window.app.graph._nodes ?? window.app.graph.nodes).filter((n) => n.widgets?.some((w) => w.name === "segmind_info"))
    .map((n) => {
      const w = n.widgets.find((x) => x.name === "segmind_info");
      const el = w.element ?? document.querySelector(`[data-segmind-strip]`);
      const lines = el ? [...el.querySelectorAll(".segmind-mc-line")].map((l) => ({ text: l.textContent, cut: l.scrollWidth > l.clientWidth + 1 })) : null;
      const core = n.widgets.find((x) => x.name === "$$node-text-preview")?.value ?? null;
      if (lines && typeof core === "string" && core) lines.push({ text: `[core] ${core}`, cut: false });
      return { id: n.id, type: n.comfyClass, width: n.size?.[0], lines };
    }));
}
async function shot(name, locator) {
  const file = path.join(OUT, `${name}.png`);
  if (locator) await locator.screenshot({ path: file }); else await page.screenshot({ path: file });
  return file;
}
async function waitStrip(pred, ms = 30000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < ms) {
    last = await strips();
    if (pred(last)) return { ok: true, after: Date.now() - t0, strips: last };
    await sleep(250);
  }
  return { ok: false, strips: last };
}
async function queue() {
  await page.evaluate(async () => { await window.app.queuePrompt(0, 1); });
}
async function historyDone(ms = 60000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const q = await (await fetch(`${URL_}/queue`)).json();
    if (!q.queue_running.length && !q.queue_pending.length) return true;
    await sleep(300);
  }
  return false;
}
async function toasts() {
  return page.evaluate(() => [...document.querySelectorAll(".p-toast-message")].map((t) => t.textContent.trim()));
}
async function step(name, fn) {
  if (ONLY && !ONLY.has(name)) return;
  try {
    report.steps[name] = await fn();
  } catch (error) {
    report.steps[name] = { error: String(error?.stack ?? error) };
    await shot(`${name}-error`).catch(() => {});
  }
  console.log(name, JSON.stringify(report.steps[name]).slice(0, 1500));
}
function setWidget(type, name, value) {
  return page.evaluate(([t, n, v]) => {
    const node = (window.app.graph._nodes ?? window.app.graph.nodes).find((x) => x.comfyClass === t);
    const w = node.widgets.find((x) => x.name === n || (n === "control" && Array.isArray(x.options?.values) && x.options.values.includes("randomize")));
    w.value = v;
    w.callback?.(v);
    node.setDirtyCanvas?.(true, true);
    return w.name;
  }, [type, name, value]);
}

// 1. Every example workflow: lines uncut, screenshot.
await step("workflows", async () => {
  const out = {};
  for (const f of ["motionctrl_svd_save_video.json", "camera_preview_save_video.json", "motionctrl_svd_sequence.json"]) {
    await load(f);
    const s = await strips();
    out[f] = { strips: s, cut: s.flatMap((x) => x.lines ?? []).filter((l) => l.cut).map((l) => l.text), shot: await shot(`wf-${f.replace(".json", "")}`) };
  }
  return out;
});

// 2. Glyph animates: two screenshots 0.5 s apart differ in the glyph; the lines do not.
await step("glyph", async () => {
  await load("motionctrl_svd_save_video.json");
  const glyph = page.locator("[data-segmind-strip] .segmind-mc-glyph").first();
  const lines = page.locator("[data-segmind-strip] .segmind-mc-lines").first();
  const a = await glyph.screenshot(); const la = await lines.screenshot();
  await sleep(500);
  const b = await glyph.screenshot(); const lb = await lines.screenshot();
  fs.writeFileSync(path.join(OUT, "glyph-a.png"), a); fs.writeFileSync(path.join(OUT, "glyph-b.png"), b);
  return { glyphChanged: !a.equals(b), linesChanged: !la.equals(lb) };
});

// 3. Randomize warning.
await step("randomize", async () => {
  await load("motionctrl_svd_save_video.json");
  const w = await setWidget("SegmindMotionCtrlSVD", "control", "randomize");
  const r = await waitStrip((s) => s.some((x) => x.lines?.some((l) => /randomize|new paid/i.test(l.text))), 5000);
  await shot("randomize");
  await setWidget("SegmindMotionCtrlSVD", "control", "fixed");
  return { widget: w, ...r };
});

// 4. A paid run: running line, then the last-run line.
await step("run", async () => {
  await load("motionctrl_svd_save_video.json");
  await setWidget("SegmindMotionCtrlSVD", "seed", Math.floor(Math.random() * 1e9));
  await queue();
  const running = await waitStrip((s) => s.some((x) => x.lines?.some((l) => /running|Segmind|waiting|sent/i.test(l.text) && x.type === "SegmindMotionCtrlSVD" && x.lines.length > 2)), 8000);
  await shot("run-running");
  await historyDone(90000);
  await sleep(1000);
  const done = await strips();
  await shot("run-done");
  // The same settings again: the $0 hint.
  return { running: running.strips?.find((x) => x.type === "SegmindMotionCtrlSVD")?.lines, done: done.find((x) => x.type === "SegmindMotionCtrlSVD")?.lines };
});

// 5. Cancel during a paid call, then the late video is kept.
await step("cancel", async () => {
  await load("motionctrl_svd_save_video.json");
  await setWidget("SegmindMotionCtrlSVD", "seed", Math.floor(Math.random() * 1e9));
  await queue();
  await sleep(3000);
  await page.evaluate(async () => { await fetch("/interrupt", { method: "POST" }); });
  const cancelled = await waitStrip((s) => s.some((x) => x.lines?.some((l) => /cancel/i.test(l.text))), 10000);
  await shot("cancel-cancelled");
  const kept = await waitStrip((s) => s.some((x) => x.lines?.some((l) => /was kept/i.test(l.text)) && !x.lines.some((l) => /^cancelled/.test(l.text))), 30000);
  await shot("cancel-kept");
  return { cancelled: cancelled.ok, cancelledLines: cancelled.strips?.find((x) => x.type === "SegmindMotionCtrlSVD")?.lines,
    kept: kept.ok, keptLines: kept.strips?.find((x) => x.type === "SegmindMotionCtrlSVD")?.lines };
});

// 6. "API key settings…" leads to the panel; the panel saves, tests and removes the key.
await step("keypanel", async () => {
  await page.keyboard.press("Escape").catch(() => {});
  await page.evaluate(async () => { await window.app.extensionManager.command.execute("SegmindMotionCtrl.KeySettings"); });
  const panel = page.locator("[data-segmind-key-panel]").first();
  await panel.waitFor({ timeout: 8000 });
  await sleep(800);
  await shot("settings-key");
  const status = page.locator("[data-segmind-key-status]").first();
  const before = await status.textContent();
  await page.locator("[data-segmind-key-input]").first().fill(TEST_KEY);
  await page.locator('[data-segmind-key-action="save"]').first().click();
  await sleep(1500);
  const afterSave = await status.textContent();
  const toastSave = await toasts();
  await page.locator('[data-segmind-key-action="test"]').first().click();
  await sleep(2500);
  const afterTest = await status.textContent();
  await shot("settings-key-tested");
  await page.locator('[data-segmind-key-action="remove"]').first().click();
  await sleep(1500);
  const afterRemove = await status.textContent();
  await page.locator("[data-segmind-key-input]").first().fill(TEST_KEY);
  await page.locator('[data-segmind-key-action="save"]').first().click();
  await sleep(1500);
  const style = await page.evaluate(() => {
    const b = document.querySelector('[data-segmind-key-action="save"]');
    const i = document.querySelector("[data-segmind-key-input]");
    const cs = (e) => { const s = getComputedStyle(e); return { bg: s.backgroundColor, color: s.color, border: s.borderColor, radius: s.borderRadius, font: s.fontFamily.slice(0, 40), h: e.offsetHeight, cls: e.className }; };
    return { button: cs(b), input: cs(i) };
  });
  const overflow = await page.evaluate(() => {
    const panel = document.querySelector("[data-segmind-key-panel]");
    const out = [];
    for (let el = panel; el && el !== document.body; el = el.parentElement) {
      if (el.scrollWidth > el.clientWidth + 1) out.push({ tag: el.tagName, cls: String(el.className).slice(0, 60), sw: el.scrollWidth, cw: el.clientWidth });
    }
    const r = panel.getBoundingClientRect();
    return { chain: out, panel: [Math.round(r.left), Math.round(r.right)] };
  });
  return { before, afterSave, toastSave, afterTest, afterRemove, style, overflow, toasts: await toasts() };
});

// 7. Spend panel with real /usage; set the call limit to 2 through it.
await step("spend", async () => {
  const usage = page.locator("[data-segmind-usage]").first();
  await usage.scrollIntoViewIfNeeded().catch(() => {});
  await sleep(500);
  const usageText = await usage.textContent();
  const input = page.locator('[data-segmind-limit="max_calls_per_run"]').first();
  await input.fill("2");
  await page.locator('[data-segmind-limit-save="max_calls_per_run"]').first().click();
  await sleep(1500);
  const note = await page.locator('[data-segmind-limit-note="max_calls_per_run"]').first().textContent();
  await usage.scrollIntoViewIfNeeded().catch(() => {});
  await shot("settings-spend");
  const served = await (await fetch(`${URL_}/segmind_motionctrl/usage`)).json();
  await page.keyboard.press("Escape");
  await sleep(500);
  return { usageText, note, served };
});

// 8. A paid sequence of 3 moves under a limit of 2: the strip warns, the run is refused with a clear message.
await step("refused", async () => {
  await load("motionctrl_svd_sequence.json");
  await page.evaluate(() => {
    const g = window.app.graph;
    const all = g._nodes ?? g.nodes;
    const preview = all.find((n) => n.comfyClass === "MotionCtrlCameraPreviewSequence");
    const paid = window.LiteGraph.createNode("SegmindMotionCtrlSequence");
    paid.pos = [preview.pos[0], preview.pos[1]];
    g.add(paid);
    for (const w of paid.widgets) {
      const same = preview.widgets.find((x) => x.name === w.name);
      if (same && w.name !== "segmind_info") w.value = same.value;
    }
    const load = all.find((n) => n.comfyClass === "LoadImage");
    const save = all.find((n) => n.comfyClass === "SaveVideo");
    load.connect(0, paid, 0);
    paid.connect(2, save, 0);
    g.remove(preview);
  });
  await sleep(1500);
  const warned = await waitStrip((s) => s.some((x) => x.type === "SegmindMotionCtrlSequence" && x.lines?.some((l) => /limit|refuse|stopp/i.test(l.text))), 5000);
  await shot("refused-strip");
  await queue();
  await historyDone(30000);
  await sleep(1500);
  const dialog = await page.evaluate(() => [...document.querySelectorAll(".p-dialog, .comfy-modal, [role=dialog]")].map((d) => d.textContent.trim().slice(0, 800)));
  await shot("refused-run");
  const after = await strips();
  return { warnedLines: warned.strips?.find((x) => x.type === "SegmindMotionCtrlSequence")?.lines, dialog, after: after.find((x) => x.type === "SegmindMotionCtrlSequence")?.lines };
});

report.consoleErrors = consoleErrors;
fs.writeFileSync(path.join(OUT, "report.json"), JSON.stringify(report, null, 2));
await ctx.close();

// node tests/browser/workflow_thumbnail.mjs WORKFLOW.json OUT.png [URL]
// Loads a workflow in the classic canvas, runs it, screenshots the page and prints the screen box of its nodes
// (notes left out). The thumbnails in example_workflows/ are that box cropped and scaled to 640x307.
import { chromium } from "playwright-core";
import fs from "node:fs"; import os from "node:os"; import path from "node:path";
const [wf, out, URL_ = "http://127.0.0.1:8188"] = process.argv.slice(2);
for (const [id, v] of [["Comfy.VueNodes.Enabled", false], ["Comfy.TutorialCompleted", true], ["Comfy.Minimap.Visible", false], ["Comfy.Graph.CanvasMenu", false]])
  await fetch(`${URL_}/settings/${id}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(v) });
const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "chr-")), {
  executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1600, height: 1000 },
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run"] });
const page = ctx.pages()[0] ?? await ctx.newPage();
await page.goto(URL_);
await page.waitForFunction(() => window.app?.graph && window.app.extensions?.some?.((e) => e.name === "segmind.motionctrl"), null, { timeout: 60000 });
await new Promise((r) => setTimeout(r, 1500));
await page.evaluate(async (j) => { await window.app.loadGraphData(j); }, JSON.parse(fs.readFileSync(wf, "utf8")));
await new Promise((r) => setTimeout(r, 1000));
await page.evaluate(async () => { await window.app.queuePrompt(0, 1); });
for (let i = 0; i < 120; i++) {
  const q = await (await fetch(`${URL_}/queue`)).json();
  if (!q.queue_running.length && !q.queue_pending.length) break;
  await new Promise((r) => setTimeout(r, 500));
}
await new Promise((r) => setTimeout(r, 2500));
await page.mouse.move(5, 500);
if (process.env.GROW) {
  await page.evaluate((h) => { const n = (window.app.graph._nodes ?? window.app.graph.nodes).find((x) => x.type.includes("Sequence")); n.setSize([n.size[0], n.size[1] + h]); window.app.graph.setDirtyCanvas(true, true); }, Number(process.env.GROW));
  await new Promise((r) => setTimeout(r, 800));
}
const box = await page.evaluate(() => {
  const c = window.app.canvas; const s = c.ds.scale; const [ox, oy] = c.ds.offset;
  const ns = (window.app.graph._nodes ?? window.app.graph.nodes).filter((n) => n.type !== "MarkdownNote" && n.type !== "Note");
  const xs = ns.flatMap((n) => [(n.pos[0] + ox) * s, (n.pos[0] + n.size[0] + ox) * s]);
  const ys = ns.flatMap((n) => [(n.pos[1] - 30 + oy) * s, (n.pos[1] + n.size[1] + oy) * s]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)].map(Math.round);
});
await page.screenshot({ path: out });
console.log(JSON.stringify(box));
await ctx.close();

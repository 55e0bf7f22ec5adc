// ComfyUI imports EVERY .js file under js/ as an extension module, served at /extensions/<pack folder>/...
// So: one entry with the side effect, all other modules import cleanly anywhere, and imports resolve.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const JS = resolve(dirname(fileURLToPath(import.meta.url)), "../../js");
const ENTRY = join(JS, "segmind_motionctrl.js");

function jsFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith(".js") || entry.name.endsWith(".mjs") ? [path] : [];
  });
}

function importsOf(path) {
  return [...readFileSync(path, "utf8").matchAll(/^\s*import\s[^"']*["']([^"']+)["']/gm)].map((m) => m[1]);
}

test("no test or helper scripts are served as extensions", () => {
  for (const path of jsFiles(JS)) {
    assert.ok(!/\.(test|spec)\./.test(path), relative(JS, path));
    assert.ok(path.endsWith(".js"), `${relative(JS, path)}: the frontend lists only .js files`);
  }
});

test("the entry imports ComfyUI's shims from two levels up, as /extensions/<pack>/ needs", () => {
  const specifiers = importsOf(ENTRY);
  assert.ok(specifiers.includes("../../scripts/app.js"));
  assert.ok(specifiers.includes("../../scripts/api.js"));
});

test("every relative import inside js/ exists and none reaches ComfyUI except the entry", () => {
  for (const path of jsFiles(JS)) {
    for (const specifier of importsOf(path)) {
      if (specifier.startsWith("../../scripts/")) {
        assert.equal(path, ENTRY, `${relative(JS, path)} imports ${specifier}: only the entry may`);
        continue;
      }
      assert.ok(specifier.startsWith("./") || specifier.startsWith("../"), `${relative(JS, path)}: ${specifier}`);
      const target = resolve(dirname(path), specifier);
      assert.ok(target.startsWith(JS) && existsSync(target), `${relative(JS, path)}: ${specifier} not found`);
    }
  }
});

test("every module but the entry imports without a browser and without side effects", async () => {
  const before = new Set(Object.keys(globalThis));
  for (const path of jsFiles(JS).filter((p) => p !== ENTRY)) {
    await import(pathToFileURL(path).href);
  }
  assert.deepEqual(Object.keys(globalThis).filter((k) => !before.has(k)), []);
});

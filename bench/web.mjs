// The web app's first-load measures (issue 15): the JavaScript the login page loads (gzip, from the
// build the server serves) and the first contentful paint of /login in Debian's Chromium, each
// load in a fresh browser context (an empty cache), served by the real stack (Uvicorn + WhiteNoise,
// as `make run`). Prints one JSON object; docs/benchmarks.md records the numbers.
//
//   .venv/bin/python scripts/e2e_stack.py -- node ../bench/web.mjs [loads]
//
// (the stack script starts everything on a fresh database and sets E2E_BASE_URL and E2E_WEB_DIST;
// or point E2E_BASE_URL at any running server, e.g. http://127.0.0.1:8000 under `make run`).
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loginFirstLoad } from "../web/e2e/first-load.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// playwright-core is the web app's dev dependency (web/node_modules), not beside this file.
const { chromium } = createRequire(join(here, "..", "web", "package.json"))("playwright-core");
const base = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8000";
const dist = process.env.E2E_WEB_DIST ?? join(here, "..", "web", "dist");
const loads = Number(process.argv[2] ?? 9);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const js = loginFirstLoad(dist);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
const samples = [];
try {
  // One load first, not counted: the server's own first request (imports, template cache).
  for (let i = 0; i <= loads; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(new URL("/login", base).href, { waitUntil: "load" });
    await page.getByRole("button").first().waitFor();
    const timing = await page.evaluate(() => {
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      const navigation = performance.getEntriesByType("navigation")[0];
      return {
        fcp: paint ? paint.startTime : null,
        domContentLoaded: navigation.domContentLoadedEventEnd,
        load: navigation.loadEventEnd,
        transferred: performance
          .getEntriesByType("resource")
          .filter((entry) => entry.initiatorType === "script" || entry.name.endsWith(".js"))
          .reduce((sum, entry) => sum + entry.transferSize, 0),
      };
    });
    if (i > 0) samples.push(timing);
    await context.close();
  }
} finally {
  await browser.close();
}

const fcps = samples.map((sample) => sample.fcp).filter((value) => value !== null);
console.log(
  JSON.stringify(
    {
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB`,
      base,
      loginJs: { files: js.files.length, bytes: js.bytes, gzip: js.gzip, cssGzip: js.css.reduce((s, f) => s + f.gzip, 0) },
      loads: samples.length,
      fcpMs: { median: median(fcps), min: Math.min(...fcps), max: Math.max(...fcps) },
      domContentLoadedMs: { median: median(samples.map((s) => s.domContentLoaded)) },
      loadMs: { median: median(samples.map((s) => s.load)) },
      jsTransferredBytes: { median: median(samples.map((s) => s.transferred)) },
    },
    null,
    2,
  ),
);

// The login page's first load stays under 300 kB of JavaScript (gzip): a size read from the built
// app, not a timing. A browser then loads /login and the scripts it fetched must be exactly those
// counted, so the count is of what a first visit really loads, and no viewer (Plotly, Niivue,
// 3Dmol) is among them.
import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { loginFirstLoad } from "./first-load.mjs";
import { REPO, text } from "./support";

const BUDGET_GZIP = 300 * 1024;

test("the login page's first load: under 300 kB of JavaScript (gzip), no viewer", async ({ page }, testInfo) => {
  // The copy of the build the stack serves (scripts/e2e_stack.py), else web/dist.
  const load = loginFirstLoad(process.env.E2E_WEB_DIST ?? join(REPO, "web", "dist"));
  await testInfo.attach("first-load.json", { body: JSON.stringify(load, null, 2), contentType: "application/json" });
  expect(load.gzip).toBeLessThan(BUDGET_GZIP);

  const scripts: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname.split("/").pop() ?? "");
  });
  await page.goto("/login");
  await expect(page.getByRole("button", { name: text("login.submit") })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect([...new Set(scripts)].sort()).toEqual(load.files.map((file) => file.name).sort());
  for (const name of scripts) expect(name).not.toMatch(/plotly|niivue|3dmol|CtViewer|StructureViewer|MeshViewer/i);
});

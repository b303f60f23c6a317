// Drives the built app in Debian's Chromium against a running server and saves screenshots of
// each screen, at desktop and phone (390 px) widths, in English and Korean; it also records
// console errors and Content-Security-Policy violations. A look-at-it tool for developers (the
// Playwright end-to-end suite of issue 15 builds on it), not a test: it asserts little.
//
//   CDSS_URL=http://127.0.0.1:8000 CDSS_USER=doctor CDSS_PASSWORD=... \
//   CDSS_CT=/path/example_ct.nii.gz node scripts/screenshots.mjs [out-dir]
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { chromium } from "playwright-core";

const base = process.env.CDSS_URL ?? "http://127.0.0.1:8000";
const username = process.env.CDSS_USER ?? "doctor";
const password = process.env.CDSS_PASSWORD;
const ctFile = process.env.CDSS_CT;
const out = resolve(process.argv[2] ?? "screenshots");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!password) throw new Error("Set CDSS_PASSWORD (and CDSS_USER) to a clinician's credentials.");
mkdirSync(out, { recursive: true });

const problems = [];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

async function api(path, token, init = {}) {
  const response = await fetch(new URL(path, base), {
    ...init,
    headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...init.headers },
  });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function newPage(browser, viewport, lang) {
  const context = await browser.newContext({ viewport, locale: lang === "ko" ? "ko-KR" : "en-GB" });
  await context.addInitScript((language) => window.localStorage.setItem("cdss.lang", language), lang);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy/i.test(message.text())) {
      problems.push({ page: page.url(), console: message.text() });
    }
  });
  page.on("pageerror", (error) => problems.push({ page: page.url(), error: String(error) }));
  return page;
}

async function shot(page, name) {
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  console.log(`  ${name}.png`);
}

async function login(page) {
  await page.goto(`${base}/login`);
  await page.locator("input[autocomplete=username]").fill(username);
  await page.locator("input[autocomplete=current-password]").fill(password);
  await page.locator("button[type=submit]").click();
  await page.waitForURL(/\/patients/);
}

async function waitForEnd(page, seconds) {
  await page
    .locator('[data-status="COMPLETED"], [data-status="FAILED"], [data-status="CANCELLED"]')
    .first()
    .waitFor({ timeout: seconds * 1000 });
}

const browser = await chromium.launch({ executablePath: chromiumPath });
try {
  const token = (await (await api("/api/v1/auth/token/", null, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  })).json()).access;

  console.log("English, desktop");
  let page = await newPage(browser, DESKTOP, "en");
  await page.goto(`${base}/login`);
  await shot(page, "en-desktop-01-login");
  await login(page);
  await shot(page, "en-desktop-02-patients");

  // A patient, made through the form.
  const mrn = `WEB-${Date.now().toString(36).toUpperCase()}`;
  await page.goto(`${base}/patients/new`);
  await page.getByRole("textbox", { name: /MRN/ }).fill(mrn);
  await page.getByRole("textbox", { name: /^Name/ }).fill("Hong Gildong");
  await page.locator("input[type=date]").fill("1980-01-02");
  await page.getByRole("textbox", { name: /Notes/ }).fill("Penicillin allergy.");
  await shot(page, "en-desktop-03-patient-form");
  await page.locator("button[type=submit]").click();
  await page.waitForURL(/\/patients\/\d+$/);
  const patientId = Number(page.url().split("/").pop());
  await page.locator("input[type=file]").setInputFiles({ name: "referral.txt", mimeType: "text/plain", buffer: Buffer.from("Referral: fever, cough.\n") });
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByText("referral.txt").first().waitFor();
  await shot(page, "en-desktop-04-patient");

  // A sequence analysis.
  await page.goto(`${base}/patients/${patientId}/analyses/new?type=sequence`);
  await page.locator("textarea.cdss-sequence").fill(
    ">spike_fragment\nMFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS\n>ha_dna\nATGAAAGCAATACTAGTAGTTCTGCTATATACATTTGCAACCGCAAATGCAGACACA\n",
  );
  await shot(page, "en-desktop-05-new-sequence");
  await page.locator("button[type=submit]").click();
  await page.waitForURL(/\/analyses\/\d+$/);
  const sequenceUrl = page.url();
  await waitForEnd(page, 120);
  await shot(page, "en-desktop-06-sequence-result");

  // An omics analysis from the model's own template.
  const template = Buffer.from(await (await api("/api/v1/omics/templates/rosmap.csv", token)).arrayBuffer());
  const templatePath = join(tmpdir(), "cdss-rosmap-template.csv");
  writeFileSync(templatePath, template);
  await page.goto(`${base}/patients/${patientId}/analyses/new?type=omics`);
  await page.locator("input[type=file]").setInputFiles(templatePath);
  await shot(page, "en-desktop-07-new-omics");
  await page.locator("button[type=submit]").click();
  await page.waitForURL(/\/analyses\/\d+$/);
  const omicsUrl = page.url();
  await waitForEnd(page, 120);
  await page.locator("img[data-artifact]").first().waitFor({ timeout: 30_000 }).catch(() => {});
  await shot(page, "en-desktop-08-omics-result");

  // A CT analysis (with the upload progress bar), when a CT file is given.
  let ctUrl = null;
  await page.goto(`${base}/patients/${patientId}/analyses/new?type=ct`);
  await shot(page, "en-desktop-09-new-ct");
  if (ctFile) {
    await page.locator("input[type=file]").first().setInputFiles(ctFile);
    await page.locator("button[type=submit]").click();
    await page.locator('[data-testid="progress-ct_volume"]').waitFor({ timeout: 10_000 }).catch(() => {});
    await shot(page, "en-desktop-10-ct-uploading");
    await page.waitForURL(/\/analyses\/\d+$/, { timeout: 120_000 });
    ctUrl = page.url();
    await waitForEnd(page, 300);
    await page.locator("img[data-artifact]").first().waitFor({ timeout: 30_000 }).catch(() => {});
    await shot(page, "en-desktop-11-ct-result");
    const open = page.getByTestId("open-mesh");
    if (await open.count()) {
      await open.click();
      await page.locator('[data-testid="mesh-viewer"] canvas').first().waitFor({ timeout: 60_000 });
      await page.waitForTimeout(1500);
      await page.getByTestId("mesh-viewer").screenshot({ path: join(out, "en-desktop-12-ct-mesh.png") });
      console.log("  en-desktop-12-ct-mesh.png");
    }
  }
  await page.goto(`${base}/patients/${patientId}`);
  await shot(page, "en-desktop-13-patient-with-analyses");

  console.log("Korean, desktop (switched in the header)");
  await page.getByText("한국어").first().click();
  await shot(page, "ko-desktop-01-patient");
  await page.goto(sequenceUrl);
  await waitForEnd(page, 10);
  await shot(page, "ko-desktop-02-sequence-result");
  await page.goto(omicsUrl);
  await waitForEnd(page, 10);
  await shot(page, "ko-desktop-03-omics-result");
  if (ctUrl) {
    await page.goto(ctUrl);
    await waitForEnd(page, 10);
    await shot(page, "ko-desktop-04-ct-result");
  }
  await page.context().close();

  for (const lang of ["en", "ko"]) {
    console.log(`${lang}, phone (390 px)`);
    page = await newPage(browser, PHONE, lang);
    await page.goto(`${base}/login`);
    await shot(page, `${lang}-phone-01-login`);
    await login(page);
    await shot(page, `${lang}-phone-02-patients`);
    await page.goto(`${base}/patients/${patientId}`);
    await page.getByTestId("analyses-table").waitFor();
    await shot(page, `${lang}-phone-03-patient`);
    await page.goto(`${base}/patients/${patientId}/analyses/new?type=ct`);
    await shot(page, `${lang}-phone-04-new-ct`);
    await page.goto(sequenceUrl);
    await waitForEnd(page, 10);
    await shot(page, `${lang}-phone-05-sequence-result`);
    await page.goto(omicsUrl);
    await waitForEnd(page, 10);
    await shot(page, `${lang}-phone-06-omics-result`);
    if (ctUrl) {
      await page.goto(ctUrl);
      await waitForEnd(page, 10);
      await shot(page, `${lang}-phone-07-ct-result`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) problems.push({ page: page.url(), overflow: `${overflow}px wider than the 390 px viewport` });
    await page.context().close();
  }
} finally {
  await browser.close();
  writeFileSync(join(out, "problems.json"), `${JSON.stringify(problems, null, 2)}\n`);
  console.log(`${problems.length} console error(s) or policy violation(s): ${join(out, "problems.json")}`);
}

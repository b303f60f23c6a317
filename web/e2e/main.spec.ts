// The main flow on a desktop, as clinician A, one step after another in one browser page: log in,
// register a patient, a sequence analysis and its result and PDF report, a CT analysis of the
// example CT with its viewers (their pixels), the assistant's streamed answer with a citation, and
// the interface in Korean (remembered after a reload). axe-core checks each page it reaches.
import { readFileSync } from "node:fs";

import { type BrowserContext, expect, type Page, test } from "@playwright/test";

import { countPixels, CT_SMALL, exact, expectAccessible, logIn, shot, text, users } from "./support";

test.describe.configure({ mode: "serial" });

const SEQUENCES = [
  ">spike_fragment",
  "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHSTQDLFLPFFSNVTWFHAIHVSGTNGTKRFDNPVLPFNDGVYFASTEKSNIIRGWIFGTTLDSKTQSLLIVNNATNVVIKVCEFQFCNDPFLGVYYHKNNKSWMESEFRVYSSANNCTFEYVSQPFLMDLEGKQGNFKNLREFVFKNIDGYFKIYSKHTPINLVRDLPQGFSALEPLVDLPIGINITRFQTLLALHRSYLTPGDSSSGWTAGAAAYYVGYLQPRTFLLKYNENGTITDAVDCALDPLSETKCTLKSFTVEKGIYQTSNFRVQPTESIVRFPNITNLCPFGEVFNATRFASVYAWNRKRISNCVADYSVLYNSASFSTFKCYGVSPTKLNDLCFTNVYADSFVIRGDEVRQIAPGQTGKIADYNYKLPDDFTGCVIAWNSNNLDSKVGGNYNYLYRLFRKSNLKPFERDISTEIYQAGSTPCNGVEGFNCYFPLQSYGFQPTNGVGYQPYRVVVLSFELLHAPATVCGPKKSTNLVKNKCVNF",
  ">ha_dna",
  "ATGAAAGCAATACTAGTAGTTCTGCTATATACATTTGCAACCGCAAATGCAGACACATTATGTATAGGTTATCATGCGAACAATTCAACAGACACTGTAGACACAGTACTAGAAAAGAATGTAACAGTAACACACTCTGTTAACCTTCTAGAAGACAAGCATAACGGGAAACTATGCAAACTAAGAGGGGTAGCCCCATTGCATTTGGGTAAATGTAACATTGCTGGCTGGATCCTGGGAAATCCAGAGTGTGAATCACTCTCCACAGCAAGCTCATGGTCCTACATTGTGGAAACACCTAGTTCAGACAATGGAACGTGTTACCCAGGAGATTTCATCGATTATGAGGAGCTAAGAGAGCAATTGAGCTCAGTGTCATCATTTGAAAGGTTTGAGATATTCCCCAAGACAAGTTCATGGCCCAATCATGACTCGAACAAAGGTGTAACGGCAGCATGTCCTCATGCTGGAGCAAAAAGCTTCTACAAAAATTTAATATGGCTAGTTAAAAAAGGAAATTCATACCCAAAGCTCAGCAAATCCTACATTAATGATAAAGGGAAAGAAGTCCTCGTGCTATGGGGCATTCACCATCCATCTACTAGTGCTGACCAACAAAGTCTCTATCAGAATGCAGATGCATATGTTTTTGTGGGGTCATCAAGATACAGCAAGAAGTTCAAGCCGGAAATAGCAATAAGACCCAAAGTGAGGGATCAAGAAGGGAGAATGAACTATTACTGGACACTAGTAGAGCCGGGAGACAAAATAACATTCGAAGCAACTGGAAATCTAGTGGTACCGAGATATGCATTCGCAATGGAAAGAAATGCTGGATCTGGTATTATCATTTCAGATACACCAGTCCACGATTGCAATACAACTTGTCAAACACCCAAGGGTGCTATAAACACCAGCCTCCCATTTCAGAATATACATCCGATCACAATTGGAAAATGTCCAAAATATGTAAAAAGCACAAAATTGAGACTGGCCACAGGATTGAGGAATATCCCGTCTATTCAATCTAGAGGCCTATTTGGGGCCATTGCCGGTTTCATTGAAGGGGGGTGGACAGGGATGGTAGATGGATGGTACGGTTATCACCATCAAAATGAGCAGGGGTCAGGATATGCAGCCGACCTGAAGAGCACACAGAATGCCATTGACGAGATTACTAACAAAGTAAATTCTGTTATTGAAAAGATGAATACACAGTTCACAGCAGTAGGTAAAGAGTTCAACCACCTGGAAAAAAGAATAGAGAATTTAAATAAAAAAGTTGATGATGGTTTCCTGGACATTTGGACTTACAATGCCGAACTGTTGGTTCTATTGGAAAATGAAAGAACTTTGGACTACCACGATTCAAATGTGAAGAACTTATATGAAAAGGTAAGAAGCCAGCTAAAAAACAATGCCAAGGAAATTGGAAACGGCTGCTTTGAATTTTACCACAAATGCGATAACACGTGCATGGAAAGTGTCAAAAATGGGACTTATGACTACCCAAAATACTCAGAGGAAGCAAAATTAAACAGAGAAGAAATAGATGGGGTAAAGCTGGAATCAACAAGGATTTACCAGATTTTGGCGATCTATTCAACTGTCGCCAGTTCATTGGTACTGGTAGTCTCCCTGGGGGCAATCAGTTTCTGGATGTGCTCTAATGGGTCTCTACAGTGTAGAATATGTATTTAA",
].join("\n");

let context: BrowserContext;
let page: Page;
let patientUrl = "";
let sequenceUrl = "";

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context.close();
});

/** Waits until the analysis on the page has finished, and says how. */
async function finished(timeout: number): Promise<string> {
  const badge = page.locator('[data-status="COMPLETED"], [data-status="FAILED"], [data-status="CANCELLED"]').first();
  await badge.waitFor({ timeout });
  return (await badge.getAttribute("data-status")) ?? "";
}

test("log in", async ({}, testInfo) => {
  await page.goto("/login");
  await expect(page.getByRole("button", { name: exact("login.submit") })).toBeVisible();
  await shot(page, testInfo, "01-login");
  await expectAccessible(page, testInfo, "login");
  await logIn(page, users.a);
  await shot(page, testInfo, "02-patients");
  await expectAccessible(page, testInfo, "patients");
});

test("register a patient", async ({}, testInfo) => {
  await page.getByRole("link", { name: exact("patients.new") }).click();
  await page.waitForURL(/\/patients\/new$/);
  const mrn = `E2E-${Date.now().toString(36).toUpperCase()}`;
  await page.getByRole("textbox", { name: new RegExp(`^${text("patients.fields.mrn")}`) }).fill(mrn);
  await page.getByRole("textbox", { name: new RegExp(`^${text("patients.fields.name")}`) }).fill("Hong Gildong");
  await page.getByLabel(text("patients.fields.birthDate")).fill("1980-01-02");
  await page.getByRole("textbox", { name: new RegExp(`^${text("patients.fields.notes")}`) }).fill("Penicillin allergy.");
  await shot(page, testInfo, "03-patient-form");
  await expectAccessible(page, testInfo, "patient-form");
  await page.getByRole("button", { name: exact("patients.create") }).click();
  await page.waitForURL(/\/patients\/\d+$/);
  patientUrl = new URL(page.url()).pathname;
  await expect(page.getByRole("heading", { name: "Hong Gildong" })).toBeVisible();
  await expect(page.getByText(mrn).first()).toBeVisible();
  await shot(page, testInfo, "04-patient");
  await expectAccessible(page, testInfo, "patient");
});

test("a pasted sequence: probabilities, hits and the PDF report", async ({}, testInfo) => {
  await page.getByRole("button", { name: exact("analyses.new") }).click();
  await page.getByRole("menuitem", { name: exact("newAnalysis.types.sequence") }).click();
  await page.waitForURL(/\/analyses\/new\?type=sequence$/);
  await page.getByRole("textbox", { name: new RegExp(`^${text("sequence.input")}`) }).fill(SEQUENCES);
  await shot(page, testInfo, "05-new-sequence");
  await expectAccessible(page, testInfo, "new-sequence");
  await page.getByRole("button", { name: exact("newAnalysis.submit") }).click();
  await page.waitForURL(/\/analyses\/\d+$/);
  sequenceUrl = new URL(page.url()).pathname;
  expect(await finished(120_000)).toBe("COMPLETED");

  // Every AI result says it is not a medical device and names its model and version.
  await expect(page.getByTestId("disclaimer")).toContainText(text("disclaimer.title"));
  await expect(page.getByText(/seq-\d{4}\.\d+\.\d+/).first()).toBeVisible();
  const items = page.getByTestId("sequence-item");
  await expect(items).toHaveCount(2);
  for (const name of ["spike_fragment", "ha_dna"]) {
    const item = items.filter({ hasText: name });
    await expect(item.getByText(text("sequence.pathogenProbability"))).toBeVisible();
    // Each task's probability as a percentage, e.g. "97.3%".
    await expect(item.getByText(/^\d{1,3}(\.\d)?\s?%$/).first()).toBeVisible();
  }
  // The nearest references: the spike fragment is a known protein, so it has hits.
  const hits = items.filter({ hasText: "spike_fragment" }).getByTestId("hits-table").locator("tbody tr");
  expect(await hits.count()).toBeGreaterThan(0);
  await shot(page, testInfo, "06-sequence-result");
  await expectAccessible(page, testInfo, "sequence-result");

  // The report is written after the analysis completes: download until it is there.
  const panel = page.getByTestId("interpretation-panel");
  await expect(panel).toBeVisible();
  let pdf = Buffer.alloc(0);
  await expect(async () => {
    const download = page.waitForEvent("download", { timeout: 5_000 });
    await panel.getByTestId("report-en").click();
    const file = await download;
    pdf = readFileSync(await file.path());
  }).toPass({ timeout: 180_000, intervals: [2_000, 3_000, 5_000] });
  expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  expect(pdf.length).toBeGreaterThan(1000);
  await expect(panel.getByTestId("interpretation-label")).toBeVisible({ timeout: 60_000 });
  await shot(page, testInfo, "07-sequence-report");
});

test("the example CT: upload, result, viewer and 3D mesh pixels", async ({}, testInfo) => {
  test.setTimeout(420_000);
  await page.goto(`${patientUrl}/analyses/new?type=ct`);
  // As a person does: the file picker opened from the volume's field.
  const chooser = page.waitForEvent("filechooser");
  await page.getByRole("button", { name: new RegExp(`^${text("ct.volume")}`) }).click();
  await (await chooser).setFiles(CT_SMALL);
  await shot(page, testInfo, "08-new-ct");
  await expectAccessible(page, testInfo, "new-ct");
  await page.getByRole("button", { name: exact("newAnalysis.submit") }).click();
  await page.waitForURL(/\/analyses\/\d+$/, { timeout: 120_000 });
  expect(await finished(300_000)).toBe("COMPLETED");
  await expect(page.getByTestId("disclaimer")).toBeVisible();
  await expect(page.getByTestId("ct-findings").locator("li").first()).toBeVisible();
  await expect(page.getByTestId("measurements-table").locator("tbody tr").first()).toBeVisible();

  // The volume viewer (Niivue, WebGL) where the app has it; the slices image otherwise.
  const viewer = page.getByTestId("ct-viewer");
  if ((await viewer.count()) > 0) {
    await expect(viewer).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
    const pixels = await countPixels(page, viewer.locator("canvas"));
    testInfo.annotations.push({ type: "ct-viewer pixels", description: JSON.stringify(pixels) });
    console.log(`CT viewer canvas: ${JSON.stringify(pixels)}`);
    // A CT drawn on black: most of the canvas is image, in many grey levels and label colours.
    expect(pixels.drawn).toBeGreaterThan(0.2 * pixels.width * pixels.height);
    expect(pixels.colours).toBeGreaterThan(20);
  }
  const slices = page.locator('img[data-artifact="slices.png"]');
  if ((await slices.count()) > 0 || (await viewer.count()) === 0) {
    await expect(slices).toBeVisible({ timeout: 60_000 });
    await expect.poll(() => slices.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    const pixels = await countPixels(page, slices);
    testInfo.annotations.push({ type: "slices pixels", description: JSON.stringify(pixels) });
    console.log(`slices image: ${JSON.stringify(pixels)}`);
    expect(pixels.drawn).toBeGreaterThan(0.1 * pixels.width * pixels.height);
    expect(pixels.colours).toBeGreaterThan(20);
  }
  await shot(page, testInfo, "09-ct-result");
  await expectAccessible(page, testInfo, "ct-result");

  // The 3D surfaces: plotly's WebGL scene, drawn only when opened.
  await page.getByTestId("open-mesh").click();
  const mesh = page.getByTestId("mesh-viewer");
  const scene = mesh.locator("canvas").first();
  await expect(scene).toBeVisible({ timeout: 90_000 });
  // Drawn once the figure is in: poll the pixels rather than wait a fixed time.
  await expect
    .poll(async () => (await countPixels(page, scene, ".modebar, .legend, .infolayer { visibility: hidden !important; }")).drawn, {
      timeout: 60_000,
    })
    .toBeGreaterThan(5_000);
  const meshPixels = await countPixels(page, scene, ".modebar, .legend, .infolayer { visibility: hidden !important; }");
  testInfo.annotations.push({ type: "mesh pixels", description: JSON.stringify(meshPixels) });
  console.log(`3D mesh canvas: ${JSON.stringify(meshPixels)}`);
  // Shaded surfaces: many colours, not one flat fill.
  expect(meshPixels.colours).toBeGreaterThan(20);
  await shot(page, testInfo, "10-ct-mesh", mesh);
});

test("the assistant: a streamed answer with a citation", async ({}, testInfo) => {
  const frames: { type: string }[] = [];
  page.on("websocket", (socket) => {
    if (!socket.url().includes("/ws/chat/")) return;
    socket.on("framereceived", ({ payload }) => {
      try {
        frames.push(JSON.parse(String(payload)) as { type: string });
      } catch {
        // not JSON: not a frame of ours
      }
    });
  });
  await page.getByRole("link", { name: exact("nav.assistant") }).click();
  await page.waitForURL(/\/assistant$/);
  await shot(page, testInfo, "11-assistant");
  await expectAccessible(page, testInfo, "assistant");
  await page.getByRole("button", { name: exact("assistant.start") }).click();
  await page.waitForURL(/\/assistant\/\d+$/);
  const question = page.getByRole("textbox", { name: exact("assistant.question") });
  await question.fill("How is the L3 level found in a CT analysis?");
  await page.getByRole("button", { name: exact("assistant.send") }).click();

  const messages = page.getByTestId("messages");
  const citations = messages.getByTestId("citations").last();
  await expect(citations).toBeVisible({ timeout: 120_000 });
  // Streamed: the answer came over the chat socket as sources, several deltas, then done.
  await expect.poll(() => frames.some((frame) => frame.type === "done"), { timeout: 60_000 }).toBe(true);
  const types = frames.map((frame) => frame.type);
  expect(types).toContain("sources");
  expect(types.filter((type) => type === "delta").length).toBeGreaterThan(1);
  expect(types.indexOf("sources")).toBeLessThan(types.indexOf("delta"));
  const streamed = frames.filter((frame) => frame.type === "delta").map((frame) => (frame as unknown as { text: string }).text).join("");
  await expect(messages).toContainText(streamed.trim().slice(0, 40));
  // The answer cites [n]; its source opens to the excerpt.
  await expect(messages).toContainText(/\[\d+\]/);
  const first = citations.getByRole("button").first();
  await first.click();
  await expect(first).toHaveAttribute("aria-expanded", "true");
  await expect(citations.getByRole("region").first()).toBeVisible();
  await shot(page, testInfo, "12-assistant-answer");
  await expectAccessible(page, testInfo, "assistant-chat");
});

test("Korean: switched in the header, remembered after a reload", async ({}, testInfo) => {
  await page.goto(sequenceUrl);
  await finished(30_000);
  await page.getByText(text("language.ko"), { exact: true }).click();
  await expect(page.getByTestId("disclaimer")).toContainText(text("disclaimer.title", "ko"));
  await expect(page.getByRole("banner").getByRole("link", { name: exact("nav.patients", "ko") })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await shot(page, testInfo, "13-ko-sequence-result");
  await page.reload();
  await finished(30_000);
  await expect(page.getByTestId("disclaimer")).toContainText(text("disclaimer.title", "ko"));
  await expect(page.getByRole("heading", { name: new RegExp(text("interpretation.title", "ko")) })).toBeVisible();
  await page.goto(patientUrl);
  await expect(page.getByRole("button", { name: exact("analyses.new", "ko") })).toBeVisible();
  await shot(page, testInfo, "14-ko-patient");
  await expectAccessible(page, testInfo, "ko-patient");
  // Back to English for whatever runs next in this browser.
  await page.getByText(text("language.en"), { exact: true }).click();
  await expect(page.getByRole("button", { name: exact("analyses.new") })).toBeVisible();
});

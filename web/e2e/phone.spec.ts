// The main flow in a phone-sized window (390 x 844, the "phone" project): log in, the patients list,
// a patient's page, a completed result. Nothing may be wider than the screen, and each page passes
// axe-core. The result is a sequence analysis submitted through the API beforehand.
import { expect, type Page, test } from "@playwright/test";

import { exact, expectAccessible, logIn, shot, text, token, users } from "./support";

async function fitsTheScreen(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${page.url()} is ${overflow}px wider than the window`).toBeLessThanOrEqual(0);
}

test("phone: log in, patients, a patient, a result", async ({ page, request }, testInfo) => {
  const bearer = { Authorization: `Bearer ${await token(request, users.a)}` };
  const mrn = `E2E-P-${Date.now().toString(36).toUpperCase()}`;
  const created = await request.post("/api/v1/patients/", { headers: bearer, data: { mrn, name: "Kim Phone" } });
  expect(created.status(), await created.text()).toBe(201);
  const patient = (await created.json()) as { id: number };
  const submitted = await request.post("/api/v1/analyses/", {
    headers: bearer,
    data: {
      kind: "sequence_batch",
      patient: patient.id,
      inputs: { items: [{ id: "phone_query", sequence: "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHSTQDLFLPFFSNVTWFHAIHVSGTNGTKRFDNPVLPFNDGVYFASTEKSNIIRGWIFGTTLDSKTQSLLIVNNATNVVIKVCEFQFCNDPFLGVYYHKNNKSWMESEFRVYSSANNCTFEYVSQPFLMDLEGKQGNFKNLREF", seq_type: "protein" }] },
    },
  });
  expect(submitted.status(), await submitted.text()).toBeLessThan(300);
  const analysis = (await submitted.json()) as { id: number };

  await page.goto("/login");
  await shot(page, testInfo, "01-login");
  await fitsTheScreen(page);
  await expectAccessible(page, testInfo, "phone-login");
  await logIn(page, users.a);
  await page.getByRole("searchbox", { name: exact("patients.search") }).fill(mrn);
  // Below the "sm" breakpoint the list is cards (the table is hidden): what is visible counts.
  const row = page.getByText("Kim Phone").filter({ visible: true }).first();
  await expect(row).toBeVisible();
  await shot(page, testInfo, "02-patients");
  await fitsTheScreen(page);
  await expectAccessible(page, testInfo, "phone-patients");

  await row.click();
  await page.waitForURL(new RegExp(`/patients/${patient.id}$`));
  await expect(page.getByRole("heading", { name: "Kim Phone" })).toBeVisible();
  await expect(page.getByText(text("kinds.sequence_batch")).filter({ visible: true }).first()).toBeVisible();
  await shot(page, testInfo, "03-patient");
  await fitsTheScreen(page);
  await expectAccessible(page, testInfo, "phone-patient");

  await page.goto(`/analyses/${analysis.id}`);
  const done = page.locator('[data-status="COMPLETED"], [data-status="FAILED"]').first();
  await done.waitFor({ timeout: 120_000 });
  await expect(done).toHaveAttribute("data-status", "COMPLETED");
  await expect(page.getByTestId("disclaimer")).toBeVisible();
  await expect(page.getByTestId("sequence-item").getByText(text("sequence.pathogenProbability"))).toBeVisible();
  await shot(page, testInfo, "04-sequence-result");
  await fitsTheScreen(page);
  await expectAccessible(page, testInfo, "phone-sequence-result");
});

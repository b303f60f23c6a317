// Clinician B cannot open clinician A's patient or analysis by its address: what B sees is the same
// as for an address that names nothing, and nothing of A's patient shows. An unknown page is the
// not-found page.
import { expect, type Page, test } from "@playwright/test";

import { exact, expectAccessible, logIn, shot, text, token, users } from "./support";

async function shownError(page: Page): Promise<string> {
  const alert = page.getByRole("alert").first();
  await expect(alert).toBeVisible();
  return (await alert.innerText()).replace(/Request ID: \S+/, "").trim();
}

test("a second clinician gets not found for the first one's patient", async ({ page, request }, testInfo) => {
  // A's patient and one analysis of it, made through the API (the forms are tested elsewhere).
  const bearer = { Authorization: `Bearer ${await token(request, users.a)}` };
  const mrn = `E2E-A-${Date.now().toString(36).toUpperCase()}`;
  const created = await request.post("/api/v1/patients/", { headers: bearer, data: { mrn, name: "Private Patient" } });
  expect(created.status(), await created.text()).toBe(201);
  const patient = (await created.json()) as { id: number };
  const submitted = await request.post("/api/v1/analyses/", {
    headers: bearer,
    data: { kind: "sequence_batch", patient: patient.id, inputs: { items: [{ id: "q", sequence: "MKTAYIAKQRQISFVKSHFSRQ", seq_type: "protein" }] } },
  });
  expect(submitted.status(), await submitted.text()).toBeLessThan(300);
  const analysis = (await submitted.json()) as { id: number };

  await logIn(page, users.b);
  await expect(page.getByText("Private Patient")).toHaveCount(0);

  await page.goto(`/patients/${patient.id}`);
  const forbidden = await shownError(page);
  await shot(page, testInfo, "20-other-clinicians-patient");
  await expect(page.getByText("Private Patient")).toHaveCount(0);
  await expect(page.getByText(mrn)).toHaveCount(0);
  await expectAccessible(page, testInfo, "patient-not-found");

  await page.goto("/patients/999999999");
  const missing = await shownError(page);
  expect(forbidden).toBe(missing);
  expect(forbidden).toContain(text("errors.title"));

  await page.goto(`/analyses/${analysis.id}`);
  const analysisForbidden = await shownError(page);
  await expect(page.getByText("Private Patient")).toHaveCount(0);
  await page.goto("/analyses/999999999");
  expect(analysisForbidden).toBe(await shownError(page));

  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: exact("notFound.title") })).toBeVisible();
  await shot(page, testInfo, "21-not-found");
});

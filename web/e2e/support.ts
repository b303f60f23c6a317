// What every end-to-end spec shares: the stack's address and users (scripts/e2e_stack.py puts them
// in the environment), the interface's own strings (from the locale files, so a reworded label does
// not break a test), logging in, screenshots of each step, axe-core checks, and reading a canvas's
// pixels. Specs read what a person sees: text by role and label, and for canvases the pixels.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, expect, type Locator, type Page, type TestInfo } from "@playwright/test";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "..", "..");
export const SCREENSHOTS = resolve(process.env.E2E_SCREENSHOTS ?? join(REPO, "var", "e2e", "screenshots"));

type Messages = { [key: string]: string | Messages };
const locales: Record<"en" | "ko", Messages> = {
  en: JSON.parse(readFileSync(join(here, "..", "src", "lib", "i18n", "locales", "en.json"), "utf8")),
  ko: JSON.parse(readFileSync(join(here, "..", "src", "lib", "i18n", "locales", "ko.json"), "utf8")),
};

/** The string a person reads for ``key`` (as i18next would show it, without interpolation). */
export function text(key: string, lang: "en" | "ko" = "en"): string {
  let node: string | Messages = locales[lang];
  for (const part of key.split(".")) {
    if (typeof node === "string" || !(part in node)) throw new Error(`no ${lang} string ${key}`);
    node = node[part];
  }
  if (typeof node !== "string") throw new Error(`${lang} ${key} is not a string`);
  return node;
}

/** A RegExp matching ``key``'s text exactly (special characters escaped). */
export function exact(key: string, lang: "en" | "ko" = "en"): RegExp {
  return new RegExp(`^${text(key, lang).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

export interface User {
  username: string;
  password: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`make e2e\` (scripts/e2e_stack.py)`);
  return value;
}

export const users = {
  get a(): User {
    return { username: required("E2E_A_USERNAME"), password: required("E2E_A_PASSWORD") };
  },
  get b(): User {
    return { username: required("E2E_B_USERNAME"), password: required("E2E_B_PASSWORD") };
  },
};

export const CT_SMALL = resolve(REPO, "..", "shared", "datasets", "imaging", "totalsegmentator_example_ct", "example_ct_sm.nii.gz");

/** Logs in through the form, as a person does, and waits for the patients list. */
export async function logIn(page: Page, user: User, lang: "en" | "ko" = "en"): Promise<void> {
  await page.goto("/login");
  // Required fields' labels end in " *": matched from their start.
  await page.getByRole("textbox", { name: new RegExp(`^${text("login.username", lang)}`) }).fill(user.username);
  await page.getByLabel(new RegExp(`^${text("login.password", lang)}`)).fill(user.password);
  await page.getByRole("button", { name: exact("login.submit", lang) }).click();
  await page.waitForURL(/\/patients$/);
  await expect(page.getByRole("heading", { name: exact("patients.title", lang) })).toBeVisible();
}

/** A bearer token for ``user``, for setting things up through the API where the UI is not under test. */
export async function token(request: APIRequestContext, user: User): Promise<string> {
  const response = await request.post("/api/v1/auth/token/", { data: user });
  expect(response.ok(), await response.text()).toBeTruthy();
  return ((await response.json()) as { access: string }).access;
}

/** A screenshot of this step (the full page, or one element), kept under
 * var/e2e/screenshots/<project>/ and attached to the report. */
export async function shot(page: Page, testInfo: TestInfo, name: string, element?: Locator): Promise<void> {
  const folder = join(SCREENSHOTS, testInfo.project.name);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.png`);
  // Long pages with WebGL viewers take a while to capture in software on two shared cores.
  if (element) await element.screenshot({ path, timeout: 60_000 });
  else await page.screenshot({ path, fullPage: true, timeout: 60_000 });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** axe-core on the page as it is: no serious or critical violation (WCAG 2.x A/AA rules). */
export async function expectAccessible(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  await testInfo.attach(`axe-${name}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: "application/json",
  });
  const summary = serious.map(
    (v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => `${n.html.slice(0, 160)}\n    ${n.failureSummary ?? ""}`).join("\n  ")}`,
  );
  // Soft: the flow goes on, so one run reports every page's violations (the test still fails).
  expect.soft(summary, `axe-core on ${name}`).toEqual([]);
}

export interface PixelCount {
  width: number;
  height: number;
  /** Pixels that differ from the canvas's most common colour (its background). */
  drawn: number;
  /** Distinct colours among them (quantised to 4 bits a channel). */
  colours: number;
}

/** Counts the drawn pixels of an element as the screen shows it (a screenshot of it: works the
 * same for WebGL, 2D canvases and images, whatever their preserveDrawingBuffer). */
export async function countPixels(page: Page, target: Locator, hide?: string): Promise<PixelCount> {
  await target.scrollIntoViewIfNeeded();
  // ``hide``: CSS hiding what is drawn over the element (a chart's legend), so only it counts.
  const png = await target.screenshot({ style: hide, animations: "disabled" });
  // Decoded in a blank page of the same browser: the app's Content-Security-Policy refuses data: URLs.
  const blank = await page.context().newPage();
  try {
    return await blank.evaluate(async (base64) => {
      const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d");
      if (!context) throw new Error("no 2D context");
      context.drawImage(bitmap, 0, 0);
      const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key = ((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      let background = 0;
      let most = -1;
      for (const [key, n] of counts) {
        if (n > most) {
          most = n;
          background = key;
        }
      }
      return {
        width: bitmap.width,
        height: bitmap.height,
        drawn: bitmap.width * bitmap.height - (counts.get(background) ?? 0),
        colours: [...counts.keys()].filter((key) => key !== background).length,
      };
    }, png.toString("base64"));
  } finally {
    await blank.close();
  }
}

// The end-to-end suite (web/e2e/): Debian's Chromium against the real stack that
// scripts/e2e_stack.py starts on a fresh database (`make e2e`, or `npm run e2e` from web/).
// One worker: the flows share one machine's two cores with a CT analysis. Timeouts are generous
// for the same reason. Screenshots of each step go to var/e2e/screenshots/, the HTML report (with
// traces and screenshots of failures) to var/e2e/report/; CI keeps var/e2e/.
import { defineConfig, devices } from "@playwright/test";

const baseURL = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8700";
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "./e2e",
  outputDir: "../var/e2e/results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 240_000,
  expect: { timeout: 20_000 },
  reporter: [["list"], ["html", { outputFolder: "../var/e2e/report", open: "never" }]],
  use: {
    baseURL,
    locale: "en-GB",
    timezoneId: "UTC",
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    // Software WebGL (SwiftShader) works headless as it is: no GPU flags.
    launchOptions: { executablePath: chromium },
  },
  projects: [
    {
      name: "desktop",
      testIgnore: /phone\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 900 }, channel: undefined },
    },
    {
      name: "phone",
      testMatch: /phone\.spec\.ts/,
      // A phone-sized window in desktop Chromium (the layout is what is under test, not touch).
      use: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: false, hasTouch: true },
    },
  ],
});

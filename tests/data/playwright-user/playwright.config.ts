// A user's config, as the README of @prospect-mock/playwright writes it. The package's global
// set-up starts one prospect-mock for the run, unless PROSPECT_MOCK_URL names one already.
import { defineConfig, devices } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  globalSetup: "@prospect-mock/playwright/global-setup",
  fullyParallel: true,
  workers: 4,
  retries: 0,
  use: {
    ...devices["Desktop Chrome"],
    // Debian's Chromium (tests/test_playwright_package.py): no browser is downloaded.
    launchOptions: { executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] },
  },
});

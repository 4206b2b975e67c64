// The config of docs/end-to-end.md (tests/npm/test_playwright_package.py writes it beside this
// one as documented.config.ts), with what this machine adds: Debian's Chromium, and the app
// the documented specs drive (e2e/app, served by the test at APP_URL).
import { defineConfig, devices } from "@playwright/test";
import documented from "./documented.config";

export default defineConfig(documented, {
  testDir: "tests",
  retries: 0,
  use: {
    ...devices["Desktop Chrome"],
    baseURL: process.env.APP_URL,
    // No browser is downloaded: Debian's, from tests/node.py.
    launchOptions: { executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] },
  },
});

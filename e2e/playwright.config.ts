// The mock: @prospect-mock/playwright's global set-up starts one `prospect-mock serve` for the
// run (`prospect-mock` on PATH, or PROSPECT_MOCK_COMMAND), unless PROSPECT_MOCK_URL names one
// already running. The app: APP_URL names a server already running (tests/test_e2e.py starts
// it on a free port); without it, it is started here, so that `npx playwright test` works by
// hand.
import { defineConfig, devices } from "@playwright/test";

const APP_URL = process.env.APP_URL ?? "http://127.0.0.1:8788";

// Another origin than the mock's, so that the browser applies CORS as it would in production.
const appServer = {
  command: `python3 -m http.server ${new URL(APP_URL).port} --bind 127.0.0.1 --directory app`,
  url: `${APP_URL}/index.html`,
  reuseExistingServer: !process.env.CI,
  stderr: "ignore" as const, // a line per file served
};

export default defineConfig({
  testDir: "tests",
  globalSetup: "@prospect-mock/playwright/global-setup",
  fullyParallel: true,
  workers: 4,
  forbidOnly: !!process.env.CI,
  // A test that passes only on a second try is a bug in the mock or the suite, not noise.
  retries: 0,
  webServer: process.env.APP_URL ? [] : [appServer],
  use: {
    baseURL: APP_URL,
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        // Debian's Chromium: nothing here downloads a browser.
        launchOptions: {
          executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
          args: ["--no-sandbox"], // its sandbox refuses to start as root, as CI runs
        },
      },
    },
  ],
});

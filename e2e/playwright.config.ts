// MOCK_URL and APP_URL name servers already running (tests/test_e2e.py starts them on free
// ports); a server not named is started here, so that `npx playwright test` works by hand.
import { defineConfig, devices } from "@playwright/test";
import type { MockOptions } from "./tests/mock";

const MOCK_URL = process.env.MOCK_URL ?? "http://127.0.0.1:8787";
const APP_URL = process.env.APP_URL ?? "http://127.0.0.1:8788";

const mockServer = {
  // A fresh database each run, so that workspaces left by a killed run never pile up.
  command: `../.venv/bin/prospect-mock serve --port ${new URL(MOCK_URL).port} --db "$(mktemp -d)/db.json" --quiet`,
  url: `${MOCK_URL}/openapi.json`,
  reuseExistingServer: !process.env.CI,
};
// Another origin than the mock's, so that the browser applies CORS as it would in production.
const appServer = {
  command: `python3 -m http.server ${new URL(APP_URL).port} --bind 127.0.0.1 --directory app`,
  url: `${APP_URL}/index.html`,
  reuseExistingServer: !process.env.CI,
  stderr: "ignore" as const, // a line per file served
};

export default defineConfig<MockOptions>({
  testDir: "tests",
  fullyParallel: true,
  workers: 4,
  forbidOnly: !!process.env.CI,
  // A test that passes only on a second try is a bug in the mock or the suite, not noise.
  retries: 0,
  webServer: [
    ...(process.env.MOCK_URL ? [] : [mockServer]),
    ...(process.env.APP_URL ? [] : [appServer]),
  ],
  use: {
    baseURL: APP_URL,
    mockURL: MOCK_URL,
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

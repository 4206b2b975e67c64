// What the environment tells the fixture and the global set-up. Environment variables, not
// options, because Playwright's workers inherit the runner's environment: the address the
// global set-up learns in the runner reaches every worker this way.

/** The address of the server for the run: set by the global set-up, or by hand. */
export const URL_VARIABLE = "PROSPECT_MOCK_URL";
/** The key the admin calls send; prospect-mock takes any `sk_test_` key unless started
 * with `--api-key`. */
const API_KEY_VARIABLE = "PROSPECT_MOCK_API_KEY";
const DEFAULT_API_KEY = "sk_test_playwright";

export function serverURL(): string {
  const url = process.env[URL_VARIABLE];
  if (!url) {
    throw new Error(
      `${URL_VARIABLE} is not set: add globalSetup: "@prospect-mock/playwright/global-setup" ` +
        `to playwright.config.ts to start a prospect-mock for the run, or set ${URL_VARIABLE} ` +
        "to the address of one already running (http://127.0.0.1:8000).",
    );
  }
  return url.replace(/\/+$/, "");
}

export function apiKey(): string {
  return process.env[API_KEY_VARIABLE] || DEFAULT_API_KEY;
}

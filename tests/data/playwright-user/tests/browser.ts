// The page's own fetch, as an app under test calls the API base it was given: `mock.url`.
import type { Page } from "@playwright/test";
import { test, type Mock } from "@prospect-mock/playwright";

export type Answer = { status: number; body: any };

export async function browserAPI(page: Page, mock: Mock) {
  await page.goto(`${mock.url}/openapi.json`); // a page on the API's origin
  return (method: string, path: string, body?: object): Promise<Answer> =>
    page.evaluate(
      async ({ url, method, body }) => {
        const answer = await fetch(url, {
          method,
          headers: { Authorization: "Bearer sk_test_app", "Content-Type": "application/json" },
          body: body && JSON.stringify(body),
        });
        return { status: answer.status, body: await answer.json() };
      },
      { url: `${mock.url}${path}`, method, body },
    );
}

// Which workspace, on which server, each test had: tests/npm/test_playwright_package.py reads
// it from the JSON report.
export function report(mock: Mock): void {
  test.info().annotations.push({ type: "workspace", description: mock.url });
}

// Scenarios that answer with an error: the banner, and the way back once they are used up.
import { expect, test } from "@prospect-mock/playwright";
import { openApp, SEEDED_PROSPECTS } from "./app";

test("a 503 on the list shows the error banner", async ({ page, mock }) => {
  const scenario = await mock.scenario({ operation: "prospects.list", respond: { status: 503 } });
  const listed = page.waitForResponse(
    (response) => response.request().method() === "GET" && response.url().includes("/prospect?"),
  );
  const app = await openApp(page, mock);
  await expect(app.banner).toContainText("Something went wrong (503)");
  expect(await (await listed).headerValue("x-mock-scenario")).toBe(scenario.id);
  await expect(app.prospects).toHaveCount(0);
});

test("a scenario used once answers once, then the real list comes back", async ({ page, mock }) => {
  await mock.scenario({ operation: "prospects.list", respond: { status: 503 }, times: 1 });
  const app = await openApp(page, mock);
  await expect(app.banner).toContainText("Something went wrong (503)");
  await page.reload();
  await expect(app.prospects).toHaveCount(SEEDED_PROSPECTS);
  await expect(app.banner).toBeHidden();
});

// A slow answer: the spinner while it is on its way, then the real data.
import { expect, test } from "@prospect-mock/playwright";
import { openApp, SEEDED_PROSPECTS } from "./app";

test("a slow list shows the spinner, then the list", async ({ page, mock }) => {
  await mock.scenario({ operation: "prospects.list", delay_ms: 1500 });
  const app = await openApp(page, mock);
  await expect(app.loading).toBeVisible();
  await expect(app.prospects).toHaveCount(SEEDED_PROSPECTS);
  await expect(app.loading).toBeHidden();
  await expect(app.banner).toBeHidden();
});

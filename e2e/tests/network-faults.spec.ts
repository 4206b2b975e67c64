// Faults below HTTP: a connection reset and a body cut short, as a real network makes them.
import { expect, test } from "@prospect-mock/playwright";
import { openApp, SEEDED_PROSPECTS } from "./app";

test("a reset connection on create shows the offline banner and saves nothing", async ({
  page,
  mock,
}) => {
  const app = await openApp(page, mock);
  await expect(app.prospects).toHaveCount(SEEDED_PROSPECTS);
  const scenario = await mock.scenario({
    operation: "prospects.create",
    fault: "connection_reset",
  });
  await app.create("Never Saved Ltd");
  await expect(app.banner).toContainText("offline");
  await mock.waitFor({ operation: "prospects.create" });
  const [attempt] = await mock.requests({ operation: "prospects.create" });
  expect(attempt).toMatchObject({ status: 0, scenario: scenario.id }); // the server reset it
  await page.reload();
  await expect(app.prospects).toHaveCount(SEEDED_PROSPECTS);
  await expect(app.prospects.filter({ hasText: "Never Saved Ltd" })).toHaveCount(0);
  expect(await mock.count({ operation: "prospects.create", status: "2XX" })).toBe(0);
});

test("a list whose JSON is cut short shows the broken-answer error", async ({ page, mock }) => {
  await mock.scenario({ operation: "prospects.list", fault: "malformed_body" });
  const app = await openApp(page, mock);
  await expect(app.banner).toContainText("The server sent a broken answer");
  await expect(app.prospects).toHaveCount(0);
});

// The journal tells a test what the page sent, without stubbing the page's fetch.
import { expect, test } from "@prospect-mock/playwright";
import { openApp } from "./app";

test("one submit sends one create, with the company typed", async ({ page, mock }) => {
  const app = await openApp(page, mock);
  await app.create("Acme Ltd");
  await mock.waitFor({ operation: "prospects.create", status: "201" });
  await expect(app.prospects.first()).toHaveText("Acme Ltd");
  const created = { operation: "prospects.create", method: "POST", status: "201" } as const;
  expect(await mock.count(created)).toBe(1);
  const [sent] = await mock.requests({ method: "POST" });
  expect(JSON.parse(sent.request_body!)).toEqual({ company: "Acme Ltd" });
  expect(await mock.count({ status: "4XX" })).toBe(0);
});

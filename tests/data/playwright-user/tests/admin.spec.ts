// Every member of `mock`, on a seeded workspace.
import { test, expect } from "@prospect-mock/playwright";
import { browserAPI, report } from "./browser";

const SEEDED = { prospects: 35, prospect_leads: 59, prospect_opportunities: 46 };
const NONE = { prospects: 0, prospect_leads: 0, prospect_opportunities: 0 };

test("a scenario answers once, then the real list comes back", async ({ page, mock }) => {
  report(mock);
  expect(mock.url).toMatch(new RegExp(`/ws/${mock.name}$`));
  const scenario = await mock.scenario({
    operation: "prospects.list",
    respond: { status: 503 },
    times: 1,
  });
  const api = await browserAPI(page, mock);
  expect((await api("GET", "/api/crm/prospect")).status).toBe(503);
  expect((await api("GET", "/api/crm/prospect")).body.total).toBe(SEEDED.prospects);
  const [failed] = await mock.requests({ status: "5XX" });
  expect(failed).toMatchObject({ status: 503, scenario: scenario.id });
});

test("load replaces the data, reset puts the seed back", async ({ page, mock }) => {
  report(mock);
  const nothing = { prospects: [], prospect_leads: [], prospect_opportunities: [] };
  expect(await mock.load(nothing)).toEqual(NONE);
  const api = await browserAPI(page, mock);
  expect((await api("GET", "/api/crm/prospect")).body.total).toBe(0);
  expect(await mock.reset()).toEqual(SEEDED);
  expect(await mock.reset({ empty: true })).toEqual(NONE);
});

test("what the server refuses fails with its reason", async ({ mock }) => {
  report(mock);
  await expect(
    mock.scenario({ operation: "prospects.list", respond: { status: 418 } }),
  ).rejects.toThrow(/answered POST .* with 400: .*418/);
  await expect(mock.waitFor({ operation: "prospects.update", timeoutMs: 100 })).rejects.toThrow(
    "Only 0 of the 1 requests matching operation=prospects.update arrived within 100 ms.",
  );
});

// Six tests at once on four workers, each writing through its page: each sees only its own.
import { test, expect } from "@prospect-mock/playwright";
import { browserAPI, report } from "./browser";

test.use({ mockSeeded: false });

for (const tenant of [1, 2, 3, 4, 5, 6]) {
  test(`tenant ${tenant} sees only the prospect it created`, async ({ page, mock }) => {
    report(mock);
    const api = await browserAPI(page, mock);
    const company = `Tenant ${tenant}`;
    expect((await api("POST", "/api/crm/prospect", { company })).status).toBe(201);
    const created = await mock.waitFor({ operation: "prospects.create", timeoutMs: 5000 });
    expect(created).toBe(1);
    const { body } = await api("GET", "/api/crm/prospect");
    expect(body.data.map((prospect: { company: string }) => prospect.company)).toEqual([company]);
    expect(await mock.count({ method: "POST", status: "2XX" })).toBe(1);
    const [sent] = await mock.requests({ operation: "prospects.create" });
    expect(JSON.parse(sent.request_body!)).toEqual({ company });
  });
}

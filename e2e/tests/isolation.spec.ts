// Six tests at once, on four workers, each writing through the page: each sees only its own.
import { expect, test } from "@prospect-mock/playwright";
import { openApp } from "./app";

test.use({ mockSeeded: false });

for (const tenant of [1, 2, 3, 4, 5, 6]) {
  test(`tenant ${tenant} sees exactly the prospects it created`, async ({ page, mock }) => {
    // Unique to this test, even under --repeat-each.
    const names = [1, 2, 3].map((n) => `Tenant ${tenant} ${test.info().testId} #${n}`);
    const app = await openApp(page, mock);
    await expect(app.loading).toBeHidden();
    await expect(app.prospects).toHaveCount(0);
    for (const name of names) {
      await app.create(name);
      await expect(app.prospects.first()).toHaveText(name);
    }
    await page.reload();
    await expect(app.prospects).toHaveText([...names].reverse()); // newest first
    expect(await mock.count({ operation: "prospects.create" })).toBe(3);
  });
}

// The app under test (app/index.html) as a person sees it, pointed at a test's workspace.
import type { Page } from "@playwright/test";
import type { Mock } from "@prospect-mock/playwright";

export const SEEDED_PROSPECTS = 35; // the fixtures' prospects, in every seeded workspace

export async function openApp(page: Page, mock: Mock) {
  await page.goto(`/?api=${encodeURIComponent(mock.url)}`);
  return {
    prospects: page.getByRole("list", { name: "Prospects" }).getByRole("listitem"),
    loading: page.getByRole("status", { name: "Loading" }),
    banner: page.getByRole("alert"),
    create: async (company: string) => {
      await page.getByLabel("Company").fill(company);
      await page.getByRole("button", { name: "Create" }).click();
    },
  };
}

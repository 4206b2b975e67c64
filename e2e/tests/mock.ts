// The `mock` fixture: each test gets a workspace of its own on one prospect-mock server, so
// tests running at once never see each other's data, journal or scenarios.
import { test as base, type APIRequestContext } from "@playwright/test";

export { expect } from "@playwright/test";

// Journal filters: operation (an operationId), method, path, status (201 or a class, 4XX).
export type Filters = Record<string, string>;

// What POST /__admin/scenarios takes; the server answers with it and its `id`.
export type ScenarioDefinition = {
  operation: string;
  match?: { path?: object; query?: object; body?: object };
  respond?: { status: number; example?: string; body?: unknown; headers?: Record<string, string> };
  fault?: "connection_reset" | "empty_response" | "malformed_body" | "timeout";
  delay_ms?: number;
  times?: number;
};
export type Scenario = ScenarioDefinition & { id: string; matched: number; created_at: string };

export type JournalEntry = {
  operation: string | null;
  method: string;
  path: string;
  status: number; // 0 for a fault: no answer was sent
  request_body: string | null;
  scenario?: string; // the id of the scenario that answered
};

export type Mock = {
  url: string; // the app's API base: `${url}/api/crm/prospect`
  scenario(definition: ScenarioDefinition): Promise<Scenario>;
  requests(filters?: Filters): Promise<JournalEntry[]>;
  count(filters?: Filters): Promise<number>;
  waitFor(filters: Filters, count?: number): Promise<void>;
};

export type MockOptions = {
  mockURL: string; // the server, set in playwright.config.ts
  seeded: boolean; // false: the workspace starts empty (test.use({ seeded: false }))
};

const AUTH = { Authorization: "Bearer sk_test_e2e" };

export const SEEDED_PROSPECTS = 35; // the fixtures' prospects, in every seeded workspace

// A name is [a-z0-9][a-z0-9_-]{0,62}; a retry gets a fresh workspace, not the failed one's.
function workspaceName(testId: string, retry: number): string {
  return `pw-${testId}-${retry}`
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 63);
}

// The server's one-sentence reason, for the error that fails the test.
async function detail(answer: { status(): number; text(): Promise<string> }): Promise<string> {
  const text = await answer.text();
  try {
    return JSON.parse(text).detail ?? text;
  } catch {
    return `${answer.status()}: ${text}`;
  }
}

async function json<T>(admin: APIRequestContext, url: string, params: Filters): Promise<T> {
  const answer = await admin.get(url, { params });
  if (!answer.ok()) throw new Error(`GET ${url}: ${await detail(answer)}`);
  return answer.json();
}

export const test = base.extend<MockOptions & { mock: Mock }>({
  mockURL: ["http://127.0.0.1:8000", { option: true }],
  seeded: [true, { option: true }],
  mock: async ({ mockURL, seeded, playwright }, use, testInfo) => {
    const name = workspaceName(testInfo.testId, testInfo.retry);
    const url = `${mockURL}/ws/${name}`;
    const admin = await playwright.request.newContext({ extraHTTPHeaders: AUTH });
    const made = await admin.put(`${mockURL}/__admin/workspaces/${name}`, {
      params: seeded ? {} : { empty: "true" },
    });
    if (!made.ok()) throw new Error(`Cannot create workspace ${name}: ${await detail(made)}`);
    await use({
      url,
      scenario: async (definition) => {
        const answer = await admin.post(`${url}/__admin/scenarios`, { data: definition });
        if (answer.status() !== 201) throw new Error(`Scenario refused: ${await detail(answer)}`);
        return answer.json();
      },
      requests: async (filters = {}) =>
        (await json<{ data: JournalEntry[] }>(admin, `${url}/__admin/requests`, filters)).data,
      count: async (filters = {}) =>
        (await json<{ count: number }>(admin, `${url}/__admin/requests/count`, filters)).count,
      waitFor: async (filters, count = 1) => {
        const params = { ...filters, count: String(count), timeout_ms: "5000" };
        const answer = await admin.get(`${url}/__admin/requests/wait`, { params });
        if (!answer.ok()) throw new Error(await detail(answer));
      },
    });
    await admin.delete(`${mockURL}/__admin/workspaces/${name}`);
    await admin.dispose();
  },
});

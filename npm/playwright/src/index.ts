// `test` with a `mock` fixture: every test gets a workspace of its own on the run's one
// prospect-mock server, so tests running at once on many workers never see each other's
// data, journal or scenarios.
import { randomBytes } from "node:crypto";
import { test as base, type TestInfo } from "@playwright/test";
import { apiKey, serverURL } from "./settings";
import { deleteWorkspace, putWorkspace, workspace, type Mock } from "./workspace";

export { expect } from "@playwright/test";
export type { Mock } from "./workspace";
export type {
  OperationId,
  HttpMethod,
  StatusFilter,
  RequestFilter,
  RequestsQuery,
  WaitQuery,
  JournalEntry,
  Journal,
  Count,
  ParameterValues,
  ScenarioMatch,
  ScenarioRespond,
  Fault,
  ScenarioDefinition,
  Scenario,
  EmployeeRange,
  StoredProspect,
  StoredProspectLead,
  StoredProspectOpportunity,
  DataSet,
  Counts,
  Workspace,
  Problem,
} from "./types";

/** Options, set with `test.use()` or in the config's `use`. */
export type MockOptions = {
  /** false: each test's workspace starts empty instead of seeded as the server seeds new
   * data (the fixtures, or `--seed-count`'s data set). Default: true. */
  mockSeeded: boolean;
};

/** A valid workspace name (`[a-z0-9][a-z0-9_-]{0,62}`) that says which test it is for, and
 * is unique across workers, retries, repeats and other runs on the same server. */
function workspaceName(testInfo: TestInfo): string {
  const title = testInfo.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const readable = title.replace(/^-+|-+$/g, "").slice(0, 40);
  return `pw-${readable}-${randomBytes(6).toString("hex")}`;
}

export const test = base.extend<MockOptions & { mock: Mock }>({
  mockSeeded: [true, { option: true }],
  mock: async ({ playwright, mockSeeded }, use, testInfo) => {
    const server = serverURL();
    const name = workspaceName(testInfo);
    const request = await playwright.request.newContext({
      extraHTTPHeaders: { Authorization: `Bearer ${apiKey()}` },
    });
    try {
      await putWorkspace(request, server, name, mockSeeded).catch((error: Error) => {
        throw new Error(`Cannot create the test's workspace: ${error.message}`);
      });
      await use(workspace(request, server, name));
      await deleteWorkspace(request, server, name);
    } finally {
      await request.dispose();
    }
  },
});

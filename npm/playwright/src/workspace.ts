// One workspace of a prospect-mock server, and the questions a test asks of it, over the
// admin API (admin.yaml). Every call checks the answer: a refusal fails the test with the
// server's own sentence, never with a confusing `undefined` three lines later.
import type { APIRequestContext, APIResponse } from "@playwright/test";
import type {
  Count,
  Counts,
  DataSet,
  Journal,
  JournalEntry,
  Problem,
  RequestFilter,
  RequestsQuery,
  Scenario,
  ScenarioDefinition,
  WaitQuery,
  Workspace,
} from "./types";

/** The `mock` fixture: a test's own workspace. */
export interface Mock {
  /** The workspace's base URL, `${server}/ws/${name}`: give it to the app as its API base
   * (the Prospect API is at `${url}/api/crm/prospect`). */
  readonly url: string;
  /** The workspace's name, unique to this test. */
  readonly name: string;
  /** Make the workspace answer matching requests as `definition` says; the scenario, with its `id`. */
  scenario(definition: ScenarioDefinition): Promise<Scenario>;
  /** The journal's entries that match every filter, newest first. */
  requests(filter?: RequestsQuery): Promise<JournalEntry[]>;
  /** How many journal entries match every filter. */
  count(filter?: RequestFilter): Promise<number>;
  /** Resolve as soon as `count` (default 1) entries match, with how many do; reject, saying
   * how many arrived, once `timeoutMs` (default 5000) has passed. */
  waitFor(filter?: WaitQuery): Promise<number>;
  /** Replace all of the workspace's data with `data`; how many records there are now. */
  load(data: DataSet): Promise<Counts>;
  /** Put the data back as the server seeds it (or empty it) and delete the scenarios; the
   * journal is kept. How many records there are now. */
  reset(options?: { empty?: boolean }): Promise<Counts>;
}

type Query = Record<string, string | number | boolean>;
type Call = { params?: Query; data?: unknown; timeout?: number };

// The server's wait answers within its timeout_ms; the HTTP request may take this much longer.
const WAIT_MARGIN_MS = 10_000;
const DEFAULT_WAIT_MS = 5_000;

/** The filters as query parameters: those given, with the server's names. */
function query({ timeoutMs, ...filter }: WaitQuery & RequestsQuery): Query {
  const given = Object.entries(filter).filter(([, value]) => value !== undefined);
  const params: Query = Object.fromEntries(given);
  if (timeoutMs !== undefined) params.timeout_ms = timeoutMs;
  return params;
}

/** Why the server refused: a problem document's `detail`, else the body as it came. */
async function reason(answer: APIResponse): Promise<string> {
  const text = await answer.text();
  try {
    const { detail } = JSON.parse(text) as Partial<Problem>;
    if (typeof detail === "string") return detail;
  } catch {
    // Not JSON: a proxy's page or a server that is not prospect-mock; show what it said.
  }
  return text.slice(0, 500) || answer.statusText();
}

/** `method url`, with its answer's JSON; an Error with the server's reason if it refused. */
async function call<T>(
  request: APIRequestContext,
  method: string,
  url: string,
  options: Call = {},
): Promise<T> {
  const answer = await request.fetch(url, { method, ...options });
  if (!answer.ok()) {
    throw new Error(
      `prospect-mock answered ${method} ${url} with ${answer.status()}: ${await reason(answer)}`,
    );
  }
  return (await answer.json()) as T;
}

/** Create (or replace) the workspace `name` on `server`, seeded or empty. */
export async function putWorkspace(
  request: APIRequestContext,
  server: string,
  name: string,
  seeded: boolean,
): Promise<Workspace> {
  const params: Query = seeded ? {} : { empty: true };
  return call<Workspace>(request, "PUT", `${server}/__admin/workspaces/${name}`, { params });
}

export async function deleteWorkspace(
  request: APIRequestContext,
  server: string,
  name: string,
): Promise<void> {
  await call(request, "DELETE", `${server}/__admin/workspaces/${name}`);
}

/** The `mock` fixture's value for the workspace `name` on `server`. */
export function workspace(request: APIRequestContext, server: string, name: string): Mock {
  const url = `${server}/ws/${name}`;
  const admin = `${url}/__admin`;
  const get = <T>(path: string, params: Query, timeout?: number): Promise<T> =>
    call<T>(request, "GET", `${admin}${path}`, { params, timeout });
  return {
    url,
    name,
    scenario: (definition) =>
      call<Scenario>(request, "POST", `${admin}/scenarios`, { data: definition }),
    requests: async (filter = {}) =>
      (await get<Journal>("/requests", query({ limit: 500, ...filter }))).data,
    count: async (filter = {}) => (await get<Count>("/requests/count", query(filter))).count,
    waitFor: async (filter = {}) => {
      const timeout = (filter.timeoutMs ?? DEFAULT_WAIT_MS) + WAIT_MARGIN_MS;
      return (await get<Count>("/requests/wait", query(filter), timeout)).count;
    },
    load: (data) => call<Counts>(request, "PUT", `${admin}/data`, { data }),
    reset: ({ empty = false } = {}) =>
      call<Counts>(request, "POST", `${admin}/reset`, { params: empty ? { empty } : {} }),
  };
}

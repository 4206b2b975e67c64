// The admin API's request and response shapes, as admin.yaml (served at /__admin/openapi.json)
// defines them. Attribute names stay the server's (snake_case), so that what a test reads here
// is what the docs page and the journal show.

/** An operation of the Prospect API, by its operationId. */
export type OperationId =
  | "prospects.list"
  | "prospects.create"
  | "prospects.get"
  | "prospects.update"
  | "prospects.delete"
  | "prospect_leads.list"
  | "prospect_leads.create"
  | "prospect_leads.reorder"
  | "prospect_leads.update"
  | "prospect_leads.delete"
  | "prospect_opportunities.list"
  | "prospect_opportunities.create"
  | "prospect_opportunities.reorder"
  | "prospect_opportunities.update"
  | "prospect_opportunities.delete";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** A status (`201`, `"201"`) or a class of statuses (`"4XX"`). */
export type StatusFilter = number | `${number}` | `${1 | 2 | 3 | 4 | 5}XX`;

/** Which journal entries a question is about: those that match every filter given. */
export type RequestFilter = {
  operation?: OperationId;
  method?: HttpMethod;
  /** The path without the query string or the workspace prefix; `*` for any characters. */
  path?: string;
  status?: StatusFilter;
};

/** `requests(filter)`: the filters, and how many entries at most (1..500, default 500). */
export type RequestsQuery = RequestFilter & { limit?: number };

/** `waitFor(filter)`: the filters, how many requests to wait for and for how long at most. */
export type WaitQuery = RequestFilter & {
  /** Default: 1. */
  count?: number;
  /** 0..30000; default: 5000. */
  timeoutMs?: number;
};

/** One request to the Prospect API in the workspace's journal, and its answer. */
export type JournalEntry = {
  at: string;
  /** null for a request that was for no operation. */
  operation: OperationId | null;
  method: string;
  /** Without the workspace prefix. */
  path: string;
  /** Without the `?`. */
  query: string;
  /** 0 if no answer was sent: a fault, or the client left. */
  status: number;
  /** The id of the scenario that answered, or null. */
  scenario: string | null;
  duration_ms: number;
  request_body: string | null;
  response_body: string | null;
};

/** What `GET /__admin/requests` answers: the entries that match, newest first. */
export type Journal = {
  data: JournalEntry[];
  /** How many entries the journal holds. */
  total: number;
};

/** What `GET /__admin/requests/count` and `/requests/wait` answer: how many match. */
export type Count = { count: number };

/** Path or query parameter values; a number or a boolean matches its text in the URL. */
export type ParameterValues = Record<string, string | number | boolean>;

export type ScenarioMatch = {
  path?: ParameterValues;
  query?: ParameterValues;
  /** Members the request body must hold (objects compared member by member). */
  body?: Record<string, unknown>;
};

export type ScenarioRespond = {
  /** A status the operation documents (500..599 count as its `5XX`). */
  status: number;
  /** A named example of that status, instead of the first. */
  example?: string;
  /** A body of the test's own; it must keep the operation's schema for the status. */
  body?: unknown;
  headers?: Record<string, string>;
};

export type Fault = "connection_reset" | "empty_response" | "malformed_body" | "timeout";

type ScenarioCommon = {
  operation: OperationId;
  match?: ScenarioMatch;
  /** Answer this many milliseconds late (0..30000). */
  delay_ms?: number;
  /** Apply to this many matching requests, then be used up; without it, until deleted. */
  times?: number;
};

/** What `POST /__admin/scenarios` takes: a documented answer, a fault, or a delay alone. */
export type ScenarioDefinition =
  | (ScenarioCommon & { respond: ScenarioRespond; fault?: never })
  | (ScenarioCommon & { fault: Fault; respond?: never })
  | (ScenarioCommon & { delay_ms: number; respond?: never; fault?: never });

/** A scenario as set up, with its id and how many requests it has answered. */
export type Scenario = ScenarioCommon & {
  id: string;
  respond?: ScenarioRespond;
  fault?: Fault;
  matched: number;
  created_at: string;
};

export type EmployeeRange = "1-10" | "11-50" | "51-200" | "201-500" | "501-1000" | "1000+";

/** A prospect as the API returns it; every attribute present, `null` when it has no value. */
export type StoredProspect = {
  id: string;
  created_at: string;
  updated_at: string;
  company_name: string | null;
  industry: string | null;
  market_segment: string | null;
  customer_group: string | null;
  territory: string | null;
  no_of_employees: EmployeeRange | null;
  annual_revenue: number | null;
  fax: string | null;
  website: string | null;
  prospect_owner: string | null;
  company: string;
};

export type StoredProspectLead = {
  id: string;
  idx: number;
  prospect_id: string;
  lead: string;
  lead_name: string | null;
  status: string | null;
  email: string | null;
  mobile_no: string | null;
  lead_owner: string | null;
};

export type StoredProspectOpportunity = {
  id: string;
  idx: number;
  prospect_id: string;
  opportunity: string | null;
  amount: number | null;
  stage: string | null;
  /** 0..100 */
  probability: number | null;
  /** YYYY-MM-DD */
  expected_closing: string | null;
  currency: string | null;
  deal_owner: string | null;
  contact_person: string | null;
};

/** Every record of every resource: what `PUT /__admin/data` takes. */
export type DataSet = {
  prospects: StoredProspect[];
  prospect_leads: StoredProspectLead[];
  prospect_opportunities: StoredProspectOpportunity[];
};

/** How many records each resource has. */
export type Counts = {
  prospects: number;
  prospect_leads: number;
  prospect_opportunities: number;
};

/** What `PUT /__admin/workspaces/{name}` answers. */
export type Workspace = {
  name: string;
  counts: Counts;
  created_at: string;
  last_used_at: string;
};

/** An error answer, as RFC 9457 problem details. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
};

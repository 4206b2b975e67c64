// One prospect-mock for the whole run, however many workers: started before the first test,
// its address handed to the workers as PROSPECT_MOCK_URL, stopped after the last test.
//
//   // playwright.config.ts
//   export default defineConfig({ globalSetup: "@prospect-mock/playwright/global-setup" });
//
// With PROSPECT_MOCK_URL already set, that server is used and nothing is started.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { URL_VARIABLE } from "./settings";

const COMMAND_VARIABLE = "PROSPECT_MOCK_COMMAND";
const SERVE_ARGS_VARIABLE = "PROSPECT_MOCK_SERVE_ARGS";

export type ServerOptions = {
  /** The program that runs prospect-mock, and its first arguments: `["prospect-mock"]`,
   * `["/path/to/.venv/bin/prospect-mock"]`, `["python3", "-m", "prospect_mock"]`.
   * Default: PROSPECT_MOCK_COMMAND split at spaces, else `prospect-mock` on PATH. */
  command?: readonly string[];
  /** More options for `prospect-mock serve` (`--seed-count 500`, `--latency-ms 50`), after
   * those set here, so they win (`--db`, `--host`). Default: PROSPECT_MOCK_SERVE_ARGS split
   * at spaces. */
  serveArgs?: readonly string[];
  /** How long the server may take to start. Default: 60 s (a large `--seed-count` is slow). */
  startTimeoutMs?: number;
};

/** Stops what the set-up started: Playwright runs it as the global teardown. */
export type Teardown = () => Promise<void>;

// The line `prospect-mock serve` prints once it listens: "  API:  http://127.0.0.1:PORT/api/...".
const ANNOUNCED = /API:\s+(\S+)\/api\/crm\/prospect/;
const STOP_GRACE_MS = 10_000;
const NOT_RUNNING = `Start prospect-mock there, or unset ${URL_VARIABLE} to have one started for the run.`;

function words(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter(Boolean);
}

/** Start prospect-mock unless PROSPECT_MOCK_URL names a server already; the teardown. */
export async function startProspectMock(options: ServerOptions = {}): Promise<Teardown> {
  const given = process.env[URL_VARIABLE];
  if (given) {
    await assertAnswers(given);
    return async () => {}; // someone else's server: theirs to stop
  }
  // A database of the run's own, so that workspaces a killed run left behind never pile up.
  const folder = mkdtempSync(join(tmpdir(), "prospect-mock-"));
  const command = serveCommand(options, join(folder, "prospect-mock.json"));
  const server = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  // Should the runner exit without its teardown (a signal, a broken pipe), the server and its
  // files must not outlive it.
  const abandon = (): void => {
    server.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once("exit", abandon);
  const teardown: Teardown = async () => {
    process.removeListener("exit", abandon);
    await stop(server);
    rmSync(folder, { recursive: true, force: true });
    delete process.env[URL_VARIABLE];
  };
  try {
    process.env[URL_VARIABLE] = await announcedAddress(server, options.startTimeoutMs);
  } catch (error) {
    await teardown();
    const why = (error as Error).message;
    throw new Error(`Cannot start prospect-mock (${command.join(" ")}): ${why}`);
  }
  return teardown;
}

/** `prospect-mock serve` on a free port and a database of its own, then the options given. */
function serveCommand(options: ServerOptions, database: string): string[] {
  const given = options.command ?? words(process.env[COMMAND_VARIABLE]);
  const program = given.length ? given : ["prospect-mock"];
  const extra = options.serveArgs ?? words(process.env[SERVE_ARGS_VARIABLE]);
  return [...program, "serve", "--port", "0", "--db", database, "--quiet", ...extra];
}

/** The base URL the server prints once it listens; what it printed if it never does. */
function announcedAddress(server: ChildProcess, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    let address: string | undefined;
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${why}\n${output}`.trimEnd()));
    };
    const timer = setTimeout(
      () => fail(`it printed no address within ${timeoutMs} ms:`),
      timeoutMs,
    );
    // Both pipes are read for as long as the server runs: a full pipe would block it.
    const read = (chunk: Buffer): void => {
      if (address) return;
      output += chunk.toString();
      address = ANNOUNCED.exec(output)?.[1];
      if (address) {
        clearTimeout(timer);
        resolve(address);
      }
    };
    server.stdout?.on("data", read);
    server.stderr?.on("data", read);
    server.once("error", (error) =>
      fail(
        `${error.message}. Install it (pip install prospect-mock), or name the command with ` +
          `${COMMAND_VARIABLE}.`,
      ),
    );
    // "close", not "exit": by then the pipes have given all the server printed.
    server.once("close", (code, signal) => fail(`it exited (${code ?? signal}) before serving:`));
  });
}

/** SIGTERM (the server finishes the requests under way), SIGKILL if it takes too long. */
async function stop(server: ChildProcess): Promise<void> {
  const running = server.pid !== undefined && server.exitCode === null;
  if (!running || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Fail the run at once, not every test one by one, when the server named is not there. */
async function assertAnswers(url: string): Promise<void> {
  const contract = `${url.replace(/\/+$/, "")}/openapi.json`;
  const answer = await fetch(contract).catch((error: Error) => {
    // fetch's own message is "fetch failed"; the reason (ECONNREFUSED...) is its cause.
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    throw new Error(`${URL_VARIABLE}=${url} does not answer (${reason}). ${NOT_RUNNING}`);
  });
  if (!answer.ok) {
    throw new Error(
      `${URL_VARIABLE}=${url}: GET ${contract} answered ${answer.status}. ${NOT_RUNNING}`,
    );
  }
}

/** Playwright's `globalSetup`: its answer, a function, is the global teardown. */
export default async function globalSetup(): Promise<Teardown> {
  return startProspectMock();
}

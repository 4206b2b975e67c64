"""The ``prospect-mock`` command: serve the mock, reset its database, check any server
against the contract."""

from __future__ import annotations

import gc
import json
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.progress import track

from prospect_mock import checking
from prospect_mock.contract.responses import operations
from prospect_mock.domain import seeding
from prospect_mock.domain.seeding import EMPTY, FIXTURES, Seed, generated, read_fixtures
from prospect_mock.domain.workspaces import DEFAULT_MAX_WORKSPACES
from prospect_mock.proxy import DEFAULT_MAX_ANSWER_BYTES, DEFAULT_TIMEOUT_S, has_credentials
from prospect_mock.proxy.session import ProxySession
from prospect_mock.proxy.violations import Side
from prospect_mock.storage.database import Database, StorageError
from prospect_mock.storage.formats import CorruptDatabaseError
from prospect_mock.storage.lock import DatabaseLocked, ProcessLock, held_by_another_process
from prospect_mock.web.app import create_app
from prospect_mock.web.auth import TEST_KEY_PREFIX
from prospect_mock.web.http import server as http_server
from prospect_mock.web.preferences import MAX_DELAY_MS

__all__ = ["main"]

DEFAULT_DB = "prospect-mock.json"
ENV_PREFIX = "PROSPECT_MOCK_"


class LatencyRange(click.ParamType[tuple[int, int]]):
    """``250`` or ``100-800`` (milliseconds) -> (low, high)."""

    name = "N|LOW-HIGH"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        low, _, high = str(value).partition("-")
        if not (low.isdigit() and (high or low).isdigit()):
            self.fail(f"{value!r} is not N or LOW-HIGH in milliseconds", param, ctx)
        bounds = (int(low), int(high or low))
        if bounds[0] > bounds[1] or bounds[1] > MAX_DELAY_MS:
            self.fail(f"{value!r} must be a range within 0-{MAX_DELAY_MS}", param, ctx)
        return bounds


def _in_existing_folder(_ctx: click.Context, _param: click.Parameter, db_path: str) -> str:
    # A typo in the folder would otherwise become a new folder holding a new database.
    folder = Path(db_path).absolute().parent
    if not folder.is_dir():
        raise click.BadParameter(f"the folder {folder} does not exist; create it first.")
    return db_path


_db_option = click.option(
    "--db",
    "db_path",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    callback=_in_existing_folder,
    help="The JSON database file; a missing or empty one starts a new database.",
)
_no_seed_option = click.option(
    "--no-seed", is_flag=True, help="Start a new database empty instead of from the fixtures."
)
_seed_count_option = click.option(
    "--seed-count",
    type=click.IntRange(0),
    help="Seed with this many generated prospects (with leads and opportunities) instead of "
    "the fixtures.",
)
_seed_option = click.option(
    "--seed",
    "random_seed",
    default=0,
    show_default=True,
    help="With --seed-count: the same seed generates the same data.",
)


@click.group()
@click.version_option(package_name="prospect-mock")
def main() -> None:
    """A stateful mock of the Prospect API, served from its OpenAPI contract."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@_db_option
@_no_seed_option
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    help="Accept only this bearer key (repeatable). Default: any key starting with sk_test_.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="Allow browsers on this origin (repeatable). Default: every origin.",
)
@click.option(
    "--latency-ms",
    type=LatencyRange(),
    default="0",
    help="Delay every API response: N milliseconds, or a random delay in a range LOW-HIGH.",
)
@click.option(
    "--quiet",
    is_flag=True,
    help="Print only the API's address and errors: no line for each request, no server log.",
)
@_seed_count_option
@_seed_option
@click.option(
    "--max-workspaces",
    default=DEFAULT_MAX_WORKSPACES,
    show_default=True,
    type=click.IntRange(1),
    help="How many workspaces the server holds at most, default included.",
)
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Seed a new database from the fixture files in this folder (as `proxy --record` "
    "writes them) instead of the built-in fixtures.",
)
def serve(
    host: str,
    port: int,
    db_path: str,
    no_seed: bool,
    api_keys: tuple[str, ...],
    cors_origins: tuple[str, ...],
    latency_ms: tuple[int, int],
    quiet: bool,
    seed_count: int | None,
    random_seed: int,
    max_workspaces: int,
    fixtures_dir: str | None,
) -> None:
    """Start the mock server."""
    if seed_count is not None:
        seed = _generated(seed_count, random_seed)
    elif fixtures_dir is not None:
        seed = _recorded(fixtures_dir)
    else:
        seed = EMPTY if no_seed else FIXTURES
    with _refusals():
        # Nothing is written before the file and the port are known to be free: a second
        # server on the same file and port is told whose the file is, not only that the port
        # is taken, and a port in use leaves no new database behind.
        holder = held_by_another_process(Path(db_path))
        if holder is not None:
            raise DatabaseLocked(Path(db_path), holder)
        sockets = http_server.listen(host, port)
        try:
            app = create_app(
                db_path,
                seed=seed,
                max_workspaces=max_workspaces,
                api_keys=api_keys,
                cors_origins=cors_origins or ("*",),
                latency_ms=latency_ms,
                log_requests=not quiet,
            )
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        base = f"http://{_client_host(host)}:{sockets[0].getsockname()[1]}"
        # Held for as long as the process lives, beside the app's own hold.
        ProcessLock.acquire(Path(db_path)).announce(base)
    # The server listens already (connections wait for it), and click.echo flushes: a
    # parent reading a pipe can connect to the API line's address as soon as it reads it.
    if not quiet:
        click.echo(f"prospect-mock serving {db_path}")
    click.echo(f"  API:  {base}/api/crm/prospect   (Authorization: Bearer {_key_shown(api_keys)})")
    if not quiet:
        click.echo(f"  Docs: {base}/ui/")
    _exit_cleanly_after_shutdown()
    # The records loaded so far live as long as the server: the garbage collector need not
    # walk them again on every full collection (at 100,000 prospects, millions of objects).
    gc.freeze()
    http_server.run(app, sockets, log_level="warning" if quiet else "info")


def _key_shown(api_keys: tuple[str, ...]) -> str:
    """A key the server accepts, for the banner: the one it was given, or the test keys'
    form."""
    if not api_keys:
        return f"{TEST_KEY_PREFIX}..."
    others = len(api_keys) - 1
    return api_keys[0] + (f"   (or one of the {others} other keys)" if others else "")


def _recorded(fixtures_dir: str) -> Seed:
    try:
        data = read_fixtures(Path(fixtures_dir))
    except ValueError as error:  # a file that is not JSON, or records that do not fit
        raise click.ClickException(f"Cannot seed from {fixtures_dir}: {error}") from None
    return Seed(lambda: data)


def _exit_cleanly_after_shutdown() -> None:
    # Uvicorn finishes in-flight requests on SIGTERM/SIGINT, then raises the signal again
    # for the previous handler: make that handler a clean exit rather than death by signal.
    def exit_zero(_signal: int, _frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, exit_zero)
    signal.signal(signal.SIGINT, exit_zero)


@main.command()
@_db_option
@_no_seed_option
@_seed_count_option
@_seed_option
@click.option(
    "--api-key",
    default="sk_test_prospect_mock_reset",
    show_default=True,
    help="Bearer key for the server that serves the database, if one does.",
)
def reset(
    db_path: str, no_seed: bool, seed_count: int | None, random_seed: int, api_key: str
) -> None:
    """Empty the database and fill it again from the fixtures (or generated data).

    If a server is serving the database, it is asked to reset its data (through its admin
    API), so that it goes on serving the reset data.
    """
    with _refusals():
        try:
            with _opened(db_path) as database:
                message = _reset_file(database, no_seed, seed_count, random_seed)
        except DatabaseLocked as locked:
            if locked.holder.url is None:
                raise
            message = _reset_through_server(locked, no_seed, seed_count, api_key)
    click.echo(message)


def _reset_file(database: Database, no_seed: bool, seed_count: int | None, seed: int) -> str:
    if seed_count is not None:
        _generated(seed_count, seed).fill(database)
        return f"{database.path}: reset to {seed_count} generated prospects (seed {seed})."
    seeding.reset(database, seed=not no_seed)
    return f"{database.path}: reset{'' if no_seed else ' to the fixtures'}."


@contextmanager
def _opened(db_path: str) -> Iterator[Database]:
    database = Database(db_path)
    try:
        yield database
    finally:
        database.close()


@contextmanager
def _refusals() -> Iterator[None]:
    """A database that cannot be opened or written, or an address that cannot be listened
    on, is refused with one line."""
    try:
        yield
    except (CorruptDatabaseError, DatabaseLocked, StorageError, http_server.CannotListen) as error:
        raise click.ClickException(str(error)) from None


def _reset_through_server(
    locked: DatabaseLocked, empty: bool, seed_count: int | None, key: str
) -> str:
    """Ask the server that holds the database to reset it."""
    url, database = locked.holder.url, locked.database
    if seed_count is not None:
        raise click.ClickException(
            f"{database} is served at {url}, which can reset it to the data it seeds with or "
            f"to empty only; stop that server to reset the file to other generated data."
        )
    target = f"{url}/__admin/reset{'?empty=true' if empty else ''}"
    request = urllib.request.Request(
        target, method="POST", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        raise click.ClickException(
            f"The server at {url} refused the reset: {_problem_detail(error)}"
        ) from None
    except OSError as error:
        raise click.ClickException(
            f"{database} is held by process {locked.holder.pid}, but {url} does not answer "
            f"({error}); nothing was reset."
        ) from None
    what = "emptied" if empty else "reset to its seed data"
    return f"{database}: {what} by the server at {url} (process {locked.holder.pid})."


def _problem_detail(error: urllib.error.HTTPError) -> str:
    try:
        problem = json.loads(error.read())
    except ValueError:
        problem = None
    return (
        str(problem.get("detail")) if isinstance(problem, dict) else f"{error.code} {error.reason}"
    )


def _client_host(host: str) -> str:
    """The address a client on this machine reaches a server listening on ``host`` at."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _generated(count: int, random_seed: int) -> Seed:
    # A bar only when generating takes more than a moment (about a second per 10,000).
    def progress(steps: Iterable[int]) -> Iterable[int]:
        return track(
            steps, description="Generating prospects", transient=True, disable=count < 2000
        )

    return generated(count, random_seed, progress)


SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
"""The same Schemathesis settings as the project's own contract tests."""


@main.command()
@click.argument("base_url", type=checking.BaseURL())
@click.option(
    "--api-key",
    default="sk_test_prospect_mock_check",
    show_default=True,
    help="Bearer key to send to the server under test.",
)
@click.option("--max-examples", default=50, show_default=True, type=click.IntRange(1))
@click.option(
    "--junit", type=click.Path(dir_okay=False), help="Also write a JUnit XML report here."
)
@click.option("--seed", type=int, help="Repeat an earlier run's choices exactly.")
def check(
    base_url: str, api_key: str, max_examples: int, junit: str | None, seed: int | None
) -> None:
    """Prove that the server at BASE_URL keeps the Prospect API contract.

    Runs every Schemathesis check, with valid and invalid data and stateful sequences from
    the contract's links, using the contract shipped with prospect-mock. Prints each
    violation with a curl line that reproduces it.

    \b
    Exit status:
      0  every operation was tested, and none broke the contract
      1  something broke the contract
      2  usage error, such as a BASE_URL that is not an http:// or https:// URL
      3  not tested: BASE_URL does not answer, or operations answered only 401 or
         403 (is --api-key the server's key?)
    """
    sys.exit(checking.Check(base_url, api_key, max_examples, junit, seed).run(SCHEMATHESIS_CONFIG))


class OperationList(click.ParamType[tuple[str, ...]]):
    """``prospects.get,prospect_leads.list`` -> the operationIds, each one of the contract."""

    name = "OPID,..."

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        named = tuple(name.strip() for name in str(value).split(",") if name.strip())
        unknown = [name for name in named if name not in operations()]
        if unknown:
            self.fail(
                f"{unknown[0]!r} is not an operation of the contract; "
                f"they are: {', '.join(operations())}",
                param,
                ctx,
            )
        return named


_FAIL_ON_SIDES: dict[str, Side | None] = {"any": None, "response": "response", "request": "request"}
"""The choices of ``proxy --fail-on-violations``: the side whose violations fail the run
(None: either side)."""


@main.command()
@click.option(
    "--upstream",
    required=True,
    help="The base URL of the server to check, without a user name or password: each "
    "client's own Authorization goes on as it came.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--enforce",
    is_flag=True,
    help="Answer a request that breaks the contract with 400 instead of sending it on, and "
    "a response that breaks it with 502.",
)
@click.option(
    "--report", type=click.Path(dir_okay=False), help="On stopping, write a JSON report here."
)
@click.option("--junit", type=click.Path(dir_okay=False), help="On stopping, write JUnit XML here.")
@click.option(
    "--fail-on-violations",
    type=click.Choice(list(_FAIL_ON_SIDES)),
    is_flag=False,
    flag_value="any",
    help="Exit with status 1 if a violation was seen: `any` (alone, the flag means this), "
    "`response` for the upstream's answers only (requests a test sends wrong on purpose do "
    "not fail the run), or `request` for the clients' requests only.",
)
@click.option(
    "--mock-operations",
    type=OperationList(),
    default="",
    help="Answer these operations (operationIds, comma-separated) with the built-in mock "
    "instead of the upstream.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="With --mock-operations: the mock's database file. Default: a temporary one.",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False),
    help="Write the records of valid list and retrieve answers to this folder, as fixture "
    "files for `serve --fixtures`.",
)
@click.option(
    "--upstream-timeout",
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds the upstream has for its whole answer (connecting, the head and every "
    "byte of the body) before the client gets 504.",
)
@click.option(
    "--max-upstream-body",
    default=DEFAULT_MAX_ANSWER_BYTES,
    show_default=True,
    type=click.IntRange(1),
    help="The largest answer body read from the upstream, in bytes, as sent and as "
    "decoded; a larger one is dropped, and the client gets 502.",
)
def proxy(
    upstream: str,
    host: str,
    port: int,
    enforce: bool,
    report: str | None,
    junit: str | None,
    fail_on_violations: str | None,
    mock_operations: tuple[str, ...],
    db_path: str | None,
    record_dir: str | None,
    upstream_timeout: float,
    max_upstream_body: int,
) -> None:
    """Check the traffic to a Prospect API server against the contract, as a proxy.

    Every request goes on to UPSTREAM as it came, and every answer back as it came; both
    are held against the contract, and what breaks it is listed at /__admin/violations.
    On SIGTERM or Ctrl-C, prints the coverage and the violations and writes the reports.

    \b
    Exit status:
      0  stopped; no violation on the side --fail-on-violations names, if given
      1  stopped; a violation on that side (any: on either side)
      2  usage error, such as an --upstream with a user name or password
    """
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--upstream")
    if has_credentials(upstream):
        raise click.BadParameter(
            "must not carry a user name or password: they would replace each client's own "
            "Authorization; drop them",
            param_hint="--upstream",
        )
    with _refusals():
        session = ProxySession(
            upstream,
            timeout_s=upstream_timeout,
            max_answer_bytes=max_upstream_body,
            enforce=enforce,
            mock_operations=mock_operations,
            build_mock=create_app,
            db_path=db_path,
            record_dir=record_dir,
        )
        sockets = http_server.listen(host, port)
    base = f"http://{_client_host(host)}:{sockets[0].getsockname()[1]}"
    click.echo(f"prospect-mock proxy for {session.app.upstream.url}")
    click.echo(f"  API:    {base}/api/crm/prospect")
    click.echo(f"  Report: {base}/__admin/violations, {base}/__admin/coverage")
    # Uvicorn finishes in-flight requests on SIGTERM/SIGINT, then raises the signal again for
    # the previous handler: a handler that does nothing lets the reports be written after.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda _signal, _frame: None)
    http_server.run(session.app, sockets)
    violations = session.finish(Console(), report, junit)
    if fail_on_violations and violations.total(_FAIL_ON_SIDES[fail_on_violations]):
        sys.exit(1)
    sys.exit(0)


def _read_from_environment(*commands: click.Command) -> None:
    """Each option of ``commands`` also reads ``PROSPECT_MOCK_`` and its name
    (``--api-key``: ``PROSPECT_MOCK_API_KEY``), as containers and CI services configure a
    server; ``--help`` names the variable. The command line wins over the environment."""
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option):
                name = param.opts[0].removeprefix("--").replace("-", "_").upper()
                param.envvar = f"{ENV_PREFIX}{name}"
                param.show_envvar = True


_read_from_environment(serve, reset, proxy)

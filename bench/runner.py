"""One bench run: the ceiling, Connexion alone, Prism where Node is present, WireMock where
Java is, then prospect-mock at each size, each driven through the same phases by the same load
generator. With ``--against``, another revision's prospect-mock runs beside this tree's at
each size, and (unless ``--no-prototype``) so does the prototype without Connexion
(bench/without_connexion.py), all of them taking turns phase by phase."""

from __future__ import annotations

import http.client
import tempfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from . import api, machine, phases, servers, targets
from .load import run_wrk
from .python_client import run_python
from .results import AgainstRun, BenchRun, LoadResult, Memory, MockRun
from .revision import Revision
from .servers import Server, ServerFailed
from .targets import Targets

STARTUP_TIMEOUT_S = 600.0
SETTLE_TIMEOUT_S = 120.0
PRISM_PHASES = ("retrieve", "list_first", "create")
PRISM_STARTUP_TIMEOUT_S = 60.0
PRISM_JIT_WARMUP_S = 10
"""Node's JIT takes Prism from about half its speed to its plateau in some 10 s of load."""
WIREMOCK_PHASES = phases.PHASES
"""All of them: WireMock has a stub for every route the phases drive."""
WIREMOCK_STARTUP_TIMEOUT_S = 60.0
WIREMOCK_JIT_WARMUP_S = 60
"""The JVM compiles WireMock's hot paths in tiers as it serves: on this 2-core machine its
retrieves went from some 2,000/s in the first 10 s of load to 6,000-10,000/s after 20-30 s,
and kept rising to some 20,000/s until about 50 s in two runs out of three. So it gets a
minute, the time its throughput took to stop rising, to be measured at its best."""

LoadGenerator = Callable[[str, phases.Phase, int, int], LoadResult]


@dataclass(frozen=True)
class Settings:
    sizes: tuple[int, ...]
    duration_s: int
    warmup_s: int
    connections: int
    client: str
    """Either "wrk" or "python"."""
    prism: bool
    wiremock: bool
    against: str | None = None
    """The revision measured beside this tree, as given (``--against``)."""
    prototype: bool = True
    """Also measure the mock's handlers without Connexion (bench/without_connexion.py)."""


@dataclass(frozen=True)
class _Reference:
    """A server written elsewhere, measured on canned answers after a warm-up for its JIT."""

    name: str
    package: str
    missing: Callable[[], str | None]
    start: Callable[[Path], AbstractContextManager[Server]]
    startup_timeout_s: float
    jit_warmup_s: int
    phases: Iterable[str]


PRISM = _Reference(
    name="Prism",
    package=servers.PRISM_PACKAGE,
    missing=servers.prism_missing,
    start=servers.prism,
    startup_timeout_s=PRISM_STARTUP_TIMEOUT_S,
    jit_warmup_s=PRISM_JIT_WARMUP_S,
    phases=PRISM_PHASES,
)
WIREMOCK = _Reference(
    name="WireMock",
    package=servers.WIREMOCK_PACKAGE,
    missing=servers.wiremock_missing,
    start=servers.wiremock,
    startup_timeout_s=WIREMOCK_STARTUP_TIMEOUT_S,
    jit_warmup_s=WIREMOCK_JIT_WARMUP_S,
    phases=WIREMOCK_PHASES,
)


def run(settings: Settings, progress: Console, revision: Revision | None = None) -> BenchRun:
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        workdir = Path(scratch)
        with servers.reference("the ceiling", "bench.ceiling:app", workdir) as server:
            server.wait_until_ready(STARTUP_TIMEOUT_S)
            ceiling = _measure(
                "ceiling", server, targets.made_up(), phases.PHASES, settings, progress
            )
        with servers.reference("Connexion alone", "bench.connexion_floor:app", workdir) as server:
            server.wait_until_ready(STARTUP_TIMEOUT_S)
            connexion = _measure(
                "Connexion alone", server, targets.made_up(), phases.PHASES, settings, progress
            )
        prism, prism_skipped = _measure_reference(
            PRISM, settings.prism, workdir, settings, progress
        )
        wiremock, wiremock_skipped = _measure_reference(
            WIREMOCK, settings.wiremock, workdir, settings, progress
        )
    measured = [_measure_size(size, revision, settings, progress) for size in settings.sizes]
    description = machine.describe(settings.client)
    if prism:
        description["prism"] = servers.prism_version()
    if wiremock:
        description["wiremock"] = servers.wiremock_version()
    against = None
    if revision is not None:
        description["against"] = revision.describe()
        old_runs = [runs.old for runs in measured if runs.old is not None]
        against = AgainstRun(revision.name, revision.commit, old_runs)
    prototype = [runs.prototype for runs in measured if runs.prototype is not None]
    if prototype:
        description["prototype"] = machine.prototype_description()
    return BenchRun(
        description, asdict(settings), ceiling, connexion, prism, prism_skipped,
        wiremock, wiremock_skipped, [runs.tree for runs in measured], against, prototype,
    )  # fmt: skip


def _measure_reference(
    reference: _Reference, wanted: bool, workdir: Path, settings: Settings, progress: Console
) -> tuple[dict[str, LoadResult], str | None]:
    """Its results, or why it was not measured."""
    name = reference.name
    if not wanted:
        return {}, f"--no-{name.lower()}"
    missing = reference.missing()
    if missing:
        progress.print(f"[yellow]{name} skipped: {missing}.")
        return {}, missing
    progress.print(f"{name}: starting {reference.package} (npx may download it first)")
    try:
        with reference.start(workdir) as server:
            server.wait_until_ready(reference.startup_timeout_s)
            progress.print(f"{name}: {reference.jit_warmup_s} s of warm-up for its JIT")
            retrieve = phases.build("retrieve", targets.made_up(), [])
            _load_generator(settings)(
                server.url, retrieve, reference.jit_warmup_s, settings.connections
            )
            return _measure(
                name, server, targets.made_up(), reference.phases, settings, progress
            ), None
    except ServerFailed as failure:
        reason = str(failure).splitlines()[0]
        progress.print(f"[yellow]{name} skipped: {escape(str(failure))}")
        return {}, reason


@dataclass(frozen=True)
class _Build:
    """One of the servers measured at each size: its label in the progress, the
    prospect-mock that prepares its database (the file's format may differ between
    revisions), and how to start it on that database in a working directory."""

    label: str
    executable: Path
    start: Callable[[Path, Path], AbstractContextManager[Server]]


@dataclass(frozen=True)
class _SizeRuns:
    """What one size measured: this tree's mock, and the revision's and the prototype's
    where they ran."""

    tree: MockRun
    old: MockRun | None
    prototype: MockRun | None


def _measure_size(
    size: int, revision: Revision | None, settings: Settings, progress: Console
) -> _SizeRuns:
    """This tree's prospect-mock on a fresh database of ``size`` prospects, the revision's
    and the prototype's each on its own copy, all taking turns phase by phase (retrieve on
    the revision, then on this tree, then on the prototype, then list, ...): drift on a
    shared machine hits them alike, so their ratios hold. The prototype's copy is made by
    this tree's prospect-mock, whose store it serves."""
    builds = {"tree": _Build(f"mock {size:,}", servers.PROSPECT_MOCK, servers.mock)}
    if revision is not None:
        name = f"prospect-mock {revision.commit[:12]}"
        start = partial(servers.mock, executable=revision.executable, name=name)
        builds = {"old": _Build(f"{revision.name} {size:,}", revision.executable, start)} | builds
    if settings.prototype:
        label = f"prototype {size:,}"
        builds["prototype"] = _Build(label, servers.PROSPECT_MOCK, servers.without_connexion)
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as scratch, ExitStack() as running:
        sessions: dict[str, tuple[_Session, float, Memory]] = {}
        for number, (role, build) in enumerate(builds.items()):
            workdir = Path(scratch) / str(number)
            workdir.mkdir()
            database = workdir / "prospect-mock.json"
            progress.print(f"{build.label}: preparing the database")
            servers.prepare_database(database, size, build.executable)
            server = running.enter_context(build.start(database, workdir))
            startup_s = server.wait_until_ready(STARTUP_TIMEOUT_S)
            after_start = server.memory()
            progress.print(f"{build.label}: up in {startup_s:.2f} s, {after_start.rss_mb:,.0f} MB")
            session = _Session(build.label, server, targets.fetch(server.port), settings, progress)
            sessions[role] = (session, startup_s, after_start)
        for phase in phases.PHASES:
            for session, _, _ in sessions.values():
                session.run(phase)
        runs = {
            role: MockRun(size, startup_s, after_start, session.server.memory(), session.results)
            for role, (session, startup_s, after_start) in sessions.items()
        }
    return _SizeRuns(runs["tree"], runs.get("old"), runs.get("prototype"))


def _measure(
    label: str,
    server: Server,
    sample: Targets,
    names: Iterable[str],
    settings: Settings,
    progress: Console,
) -> dict[str, LoadResult]:
    session = _Session(label, server, sample, settings, progress)
    for name in names:
        session.run(name)
    return session.results


class _Session:
    """One server driven through phases one at a time: what it answered, and the prospects
    its create phase made, which its delete phase deletes (each server its own)."""

    def __init__(
        self, label: str, server: Server, sample: Targets, settings: Settings, progress: Console
    ) -> None:
        self.label, self.server, self.sample = label, server, sample
        self.settings, self.progress = settings, progress
        self.generate_load = _load_generator(settings)
        self.results: dict[str, LoadResult] = {}
        self.created_ids: list[str] = []

    def run(self, name: str) -> None:
        phase = phases.build(name, self.sample, self.created_ids)
        if not phase.requests:
            self.progress.print(
                f"[yellow]{self.label}: {phases.LABELS[name]} skipped: nothing to aim at"
            )
            return
        # No warm-up before delete: it has one request per prospect to delete, no more.
        if self.settings.warmup_s and not phase.once:
            warmup = self._drive(phase, self.settings.warmup_s)
            if name == "create":
                self.created_ids += warmup.created_ids
        result = self.results[name] = self._drive(phase, self.settings.duration_s)
        if name == "create":
            self.created_ids += result.created_ids
        errors = f", [red]errors: {result.describe_errors()}" if result.errors else ""
        self.progress.print(
            f"{self.label}: {phases.LABELS[name]}: {result.requests_per_s:,.0f} req/s, "
            f"p99 {result.p99_ms:,.1f} ms{errors}"
        )

    def _drive(self, phase: phases.Phase, seconds: int) -> LoadResult:
        result = self.generate_load(self.server.url, phase, seconds, self.settings.connections)
        _settle(self.server, self.progress)
        return result


def _load_generator(settings: Settings) -> LoadGenerator:
    return run_wrk if settings.client == "wrk" else run_python


def _settle(server: Server, progress: Console) -> None:
    """Wait for the server to work off what the load generator left in flight, so that the
    next phase does not pay for this one (a read queues behind writes in the mock)."""
    try:
        api.get(server.port, api.READY_PATH, timeout=SETTLE_TIMEOUT_S)
    except (OSError, http.client.HTTPException) as error:
        busy = f"{server.name} still busy after {SETTLE_TIMEOUT_S:.0f} s: {error}"
        progress.print(f"[yellow]{escape(busy)}")

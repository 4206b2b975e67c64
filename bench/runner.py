"""One bench run: the ceiling, Connexion alone, Prism where Node is present, WireMock where
Java is, then prospect-mock at each size, each driven through the same phases by the same load
generator. With ``--against``, another revision's prospect-mock runs beside this tree's at
each size, the two taking turns phase by phase: drift on a shared machine hits both alike, so
their ratio holds."""

from __future__ import annotations

import http.client
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from . import api, load, machine, phases, servers
from .phases import LABELS, PHASES, Phase, Targets
from .results import CEILING, PRISM, BenchRun, LoadResult, MockRun
from .revision import Revision
from .servers import Running, Server, ServerFailed

WIREMOCK = "WireMock"
MOCK_STARTUP_TIMEOUT_S = 600.0
"""Loading 100,000 prospects takes seconds; on a busy shared machine, many more."""
REFERENCE_STARTUP_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Settings:
    """The command line's options, as recorded in latest.json."""

    sizes: tuple[int, ...]
    duration_s: int
    warmup_s: int
    connections: int
    client: str
    """Either "wrk" or "python" (once chosen)."""
    prism: bool
    wiremock: bool
    against: str | None = None


@dataclass(frozen=True)
class _Reference:
    """A server on canned answers, measured before the mocks."""

    name: str
    start: Callable[[Path], Running]
    needs: tuple[str, ...] = ()
    """The programs it runs on, without which it is skipped; a failure of the bench's own
    servers, which need none, ends the run."""
    phases: tuple[str, ...] = PHASES
    jit_warmup_s: int = 0
    """Load before it is measured, for a JIT to reach its plateau."""
    version: Callable[[], str] | None = None


REFERENCES = (
    _Reference(CEILING, servers.app("bench.ceiling:app")),
    _Reference("Connexion alone", servers.app("bench.connexion_floor:app")),
    # Prism answers only the phases it can without storing anything; Node's JIT takes it from
    # about half its speed to its plateau in some 10 s of load.
    _Reference(PRISM, servers.prism, ("node", "npx"), ("retrieve", "list_first", "create"),
               jit_warmup_s=10, version=servers.prism_version),
    # The JVM compiles WireMock's hot paths in tiers as it serves: on a 2-core machine its
    # retrieves went from some 2,000/s in the first 10 s of load to some 20,000/s after about
    # 50 s. So it gets a minute, to be measured at its best.
    _Reference(WIREMOCK, servers.wiremock, ("java", "npx"), jit_warmup_s=60,
               version=servers.wiremock_version),
)  # fmt: skip


def run(settings: Settings, progress: Console, revision: Revision | None = None) -> BenchRun:
    references: dict[str, dict[str, LoadResult]] = {}
    skipped: dict[str, str] = {}
    wanted = {PRISM: settings.prism, WIREMOCK: settings.wiremock}
    description = machine.describe(settings.client)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for reference in REFERENCES:
            why = None if wanted.get(reference.name, True) else f"--no-{reference.name.lower()}"
            why = why or servers.missing(*reference.needs)
            if why is None:
                try:
                    references[reference.name] = _measure_reference(
                        reference, Path(scratch), settings, progress
                    )
                    if reference.version:
                        description[reference.name.lower()] = reference.version()
                    continue
                except ServerFailed as failure:
                    if not reference.needs:
                        raise
                    why = str(failure)
            progress.print(f"[yellow]{reference.name} skipped: {escape(why)}")
            skipped[reference.name] = why.splitlines()[0]
    measured = [_measure_size(size, revision, settings, progress) for size in settings.sizes]
    if revision is not None:
        description["against"] = revision.describe()
    mocks, olds = [runs[-1] for runs in measured], [runs[0] for runs in measured if len(runs) > 1]
    name = revision.name if revision else None
    return BenchRun(description, asdict(settings), references, skipped, mocks, name, olds)


def _measure_reference(
    reference: _Reference, workdir: Path, settings: Settings, progress: Console
) -> dict[str, LoadResult]:
    fetched = " (npx may fetch it first)" if "npx" in reference.needs else ""
    progress.print(f"{reference.name}: starting{fetched}")
    with reference.start(workdir) as server:
        server.wait_until_ready(REFERENCE_STARTUP_TIMEOUT_S)
        made_up = phases.made_up()
        session = _Session(reference.name, server, made_up, settings, progress)
        if reference.jit_warmup_s:
            progress.print(f"{reference.name}: {reference.jit_warmup_s} s of warm-up for its JIT")
            session.drive(phases.build("retrieve", made_up, []), reference.jit_warmup_s)
        for phase in reference.phases:
            session.run(phase)
        return session.results


def _measure_size(
    size: int, revision: Revision | None, settings: Settings, progress: Console
) -> list[MockRun]:
    """This tree's prospect-mock on a fresh database of ``size`` prospects, after, with a
    revision, the revision's on its own copy, the two taking turns phase by phase."""
    builds = [(f"mock {size:,}", servers.PROSPECT_MOCK, "prospect-mock")]
    if revision is not None:
        old_name = f"prospect-mock {revision.commit[:12]}"
        builds.insert(0, (f"{revision.name} {size:,}", revision.executable, old_name))
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as scratch, ExitStack() as running:
        sessions = []
        for number, (label, executable, name) in enumerate(builds):
            workdir = Path(scratch) / str(number)
            workdir.mkdir()
            progress.print(f"{label}: preparing the database")
            server = running.enter_context(
                servers.mock(workdir, size, executable=executable, name=name)
            )
            startup_s = server.wait_until_ready(MOCK_STARTUP_TIMEOUT_S)
            memory = server.memory()
            progress.print(f"{label}: up in {startup_s:.2f} s, {memory.rss_mb:,.0f} MB")
            session = _Session(label, server, phases.sample(server.port), settings, progress)
            sessions.append((session, startup_s, memory))
        for phase in PHASES:
            for session, _, _ in sessions:
                session.run(phase)
        return [
            MockRun(size, startup_s, memory, session.server.memory(), session.results)
            for session, startup_s, memory in sessions
        ]


class _Session:
    """One server driven through phases one at a time: what it answered, and the prospects
    its create phase made, which its delete phase deletes (each server its own)."""

    def __init__(
        self, label: str, server: Server, targets: Targets, settings: Settings, progress: Console
    ) -> None:
        self.label, self.server, self.targets = label, server, targets
        self.settings, self.progress = settings, progress
        self.generate_load = load.generator(settings.client)
        self.results: dict[str, LoadResult] = {}
        self.created_ids: list[str] = []

    def run(self, name: str) -> None:
        phase = phases.build(name, self.targets, self.created_ids)
        if not phase.requests:
            self.progress.print(f"[yellow]{self.label}: {LABELS[name]} skipped: nothing to aim at")
            return
        # No warm-up before delete: it has one request per prospect to delete, no more.
        warmup = [self.settings.warmup_s] if self.settings.warmup_s and not phase.once else []
        for seconds in [*warmup, self.settings.duration_s]:
            result = self.drive(phase, seconds)
        self.results[name] = result
        errors = f", [red]errors: {result.describe_errors()}" if result.errors else ""
        self.progress.print(
            f"{self.label}: {LABELS[name]}: {result.requests_per_s:,.0f} req/s, "
            f"p99 {result.p99_ms:,.1f} ms{errors}"
        )

    def drive(self, phase: Phase, seconds: int) -> LoadResult:
        """``seconds`` of ``phase``, then a wait for the server to work off what the load
        generator left in flight, so that the next phase does not pay for this one (a read
        queues behind writes in the mock)."""
        result = self.generate_load(self.server.url, phase, seconds, self.settings.connections)
        if phase.name == "create":  # line items are created too, but only prospects are deleted
            self.created_ids += result.created_ids
        try:
            api.get(self.server.port, api.READY_PATH, timeout=SETTLE_TIMEOUT_S)
        except (OSError, http.client.HTTPException) as error:
            busy = f"{self.server.name} still busy after {SETTLE_TIMEOUT_S:.0f} s: {error}"
            self.progress.print(f"[yellow]{escape(busy)}")
        return result

"""One bench run: the ceiling, Connexion alone, Prism where Node is present, then
prospect-mock at each size, each driven through the same phases by the same load generator."""

from __future__ import annotations

import http.client
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from . import api, machine, phases, servers, targets
from .load import run_wrk
from .python_client import run_python
from .results import BenchRun, LoadResult, MockRun
from .servers import Server, ServerFailed
from .targets import Targets

PRISM_PHASES = ("retrieve", "list_first", "create")
STARTUP_TIMEOUT_S = 600.0
PRISM_STARTUP_TIMEOUT_S = 60.0
PRISM_JIT_WARMUP_S = 10
"""Node's JIT takes Prism from about half its speed to its plateau in some 10 s of load."""
SETTLE_TIMEOUT_S = 120.0

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


def run(settings: Settings, progress: Console) -> BenchRun:
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
        prism, prism_skipped = _measure_prism(workdir, settings, progress)
    mocks = [_measure_mock(size, settings, progress) for size in settings.sizes]
    description = machine.describe(settings.client)
    if prism:
        description["prism"] = servers.prism_version()
    return BenchRun(description, asdict(settings), ceiling, connexion, prism, prism_skipped, mocks)


def _measure_prism(
    workdir: Path, settings: Settings, progress: Console
) -> tuple[dict[str, LoadResult], str | None]:
    if not settings.prism:
        return {}, "--no-prism"
    missing = servers.prism_missing()
    if missing:
        progress.print(f"[yellow]Prism skipped: {missing}.")
        return {}, missing
    progress.print(f"Prism: starting {servers.PRISM_PACKAGE} (npx may download it first)")
    try:
        with servers.prism(workdir) as server:
            server.wait_until_ready(PRISM_STARTUP_TIMEOUT_S)
            progress.print(f"Prism: {PRISM_JIT_WARMUP_S} s of warm-up for Node's JIT")
            retrieve = phases.build("retrieve", targets.made_up(), [])
            _load_generator(settings)(
                server.url, retrieve, PRISM_JIT_WARMUP_S, settings.connections
            )
            return _measure(
                "Prism", server, targets.made_up(), PRISM_PHASES, settings, progress
            ), None
    except ServerFailed as failure:
        reason = str(failure).splitlines()[0]
        progress.print(f"[yellow]Prism skipped: {escape(str(failure))}")
        return {}, reason


def _measure_mock(size: int, settings: Settings, progress: Console) -> MockRun:
    label = f"mock {size:,}"
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as scratch:
        workdir = Path(scratch)
        database = workdir / "prospect-mock.json"
        progress.print(f"{label}: preparing the database")
        servers.prepare_database(database, size)
        with servers.mock(database, workdir) as server:
            startup_s = server.wait_until_ready(STARTUP_TIMEOUT_S)
            after_start = server.memory()
            progress.print(f"{label}: up in {startup_s:.2f} s, {after_start.rss_mb:,.0f} MB")
            sample = targets.fetch(server.port)
            results = _measure(label, server, sample, phases.PHASES, settings, progress)
            after_run = server.memory()
    return MockRun(size, startup_s, after_start, after_run, results)


def _measure(
    label: str,
    server: Server,
    sample: Targets,
    names: Iterable[str],
    settings: Settings,
    progress: Console,
) -> dict[str, LoadResult]:
    generate_load = _load_generator(settings)

    def drive(phase: phases.Phase, seconds: int) -> LoadResult:
        result = generate_load(server.url, phase, seconds, settings.connections)
        _settle(server, progress)
        return result

    results: dict[str, LoadResult] = {}
    created_ids: list[str] = []
    for name in names:
        phase = phases.build(name, sample, created_ids)
        if not phase.requests:
            progress.print(f"[yellow]{label}: {phases.LABELS[name]} skipped: nothing to aim at")
            continue
        # No warm-up before delete: it has one request per prospect to delete, no more.
        if settings.warmup_s and not phase.once:
            warmup = drive(phase, settings.warmup_s)
            if name == "create":
                created_ids += warmup.created_ids
        result = results[name] = drive(phase, settings.duration_s)
        if name == "create":
            created_ids += result.created_ids
        errors = f", [red]errors: {result.describe_errors()}" if result.errors else ""
        progress.print(
            f"{label}: {phases.LABELS[name]}: {result.requests_per_s:,.0f} req/s, "
            f"p99 {result.p99_ms:,.1f} ms{errors}"
        )
    return results


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

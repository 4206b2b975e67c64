"""The run as a small bar chart for the performance page: each operation's req/s as a share
of the ceiling, one bar per server measured on canned answers and per database size."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from .phases import LABELS, PHASES
from .results import CEILING, BenchRun, LoadResult

GREYS = ("0.3", "0.6", "0.8")
"""The references in greys, apart from the mock's sizes (default colours)."""


def write_chart(run: BenchRun, path: Path) -> None:
    references = [(name, results) for name, results in run.references.items() if name != CEILING]
    series: list[tuple[str, dict[str, LoadResult], str | None]] = [
        (name, results, grey) for (name, results), grey in zip(references, GREYS, strict=False)
    ]
    series += [(f"mock, {mock.size:,} prospects", mock.phases, None) for mock in run.mocks]
    # A bare Figure renders with the Agg backend: no display, no pyplot state.
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.subplots()
    width = 0.8 / max(len(series), 1)
    for number, (label, results, colour) in enumerate(series):
        # NaN draws no bar: Prism runs only some phases, and a size may skip one.
        shares = [_share(run, phase, results.get(phase)) for phase in PHASES]
        offsets = [index + (number - (len(series) - 1) / 2) * width for index in range(len(PHASES))]
        axes.bar(offsets, shares, width, label=label, color=colour)
    axes.axhline(100, color="black", linewidth=0.8, linestyle="--")
    axes.set_xticks(
        range(len(PHASES)), [LABELS[phase] for phase in PHASES], rotation=20, ha="right"
    )
    axes.set_ylabel("% of the Starlette ceiling (req/s)")
    axes.set_title(f"prospect-mock, {run.machine['cpu']}, {run.machine['cores']} cores", fontsize=9)
    axes.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def _share(run: BenchRun, phase: str, result: LoadResult | None) -> float:
    share = None if result is None else run.share_of_ceiling(phase, result)
    return math.nan if share is None else 100 * share

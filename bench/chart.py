"""The run as a small bar chart for the README: each operation's req/s as a share of the
ceiling, one bar per database size (and Prism and WireMock where measured).

The prototype without Connexion is left out: one more bar per size would crowd every
operation's group, and its ratios to the mock are in the tables (latest.md) beside it."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from .phases import LABELS, PHASES
from .results import BenchRun, LoadResult


def write_chart(run: BenchRun, path: Path) -> None:
    # The references in greys, apart from the mock's sizes (default colours).
    series: list[tuple[str, dict[str, LoadResult], str | None]] = [
        ("Connexion alone (canned answers)", run.connexion, "0.3")
    ]
    if run.prism:
        series.append(("Prism", run.prism, "0.6"))
    if run.wiremock:
        series.append(("WireMock", run.wiremock, "0.8"))
    series += [(f"mock, {mock.size:,} prospects", mock.phases, None) for mock in run.mocks]
    # A bare Figure renders with the Agg backend: no display, no pyplot state.
    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.subplots()
    width = 0.8 / max(len(series), 1)
    for number, (label, results, colour) in enumerate(series):
        # NaN draws no bar: Prism runs only some phases, and a size may skip one.
        shares = [
            100 * (run.share_of_ceiling(phase, results[phase]) or math.nan)
            if phase in results
            else math.nan
            for phase in PHASES
        ]
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

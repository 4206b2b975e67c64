"""Drive one phase at a server with wrk (bench/lua/phase.lua) and read back its results."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import api
from .phases import Phase
from .results import LoadResult

LUA_SCRIPT = Path(__file__).with_name("lua") / "phase.lua"
REQUEST_TIMEOUT_S = 10
"""A response slower than this counts as a timeout error (and not in the latencies)."""
RESULT_PREFIX = "bench-result "


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    # `wrk -v` prints its version line, then its usage, and exits 1.
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (completed.stdout or completed.stderr).splitlines()[0].strip()


def run_wrk(url: str, phase: Phase, seconds: int, connections: int) -> LoadResult:
    """Send ``phase``'s requests in turn over ``connections`` keep-alive connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="bench-") as requests_file:
        for request in phase.requests:
            requests_file.write(f"{request.method}\t{request.path}\t{request.body or ''}\n")
        requests_file.flush()
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
            "--timeout", f"{REQUEST_TIMEOUT_S}s",
            "-H", f"Authorization: {api.AUTHORIZATION}",
            "-s", str(LUA_SCRIPT), url,
            "--", requests_file.name, "once" if phase.once else "cycle",
        ]  # fmt: skip
        cpu_before = _children_cpu_s()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu_s = _children_cpu_s() - cpu_before
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed on {phase.name} (exit {completed.returncode}):\n"
            f"{completed.stdout}{completed.stderr}"
        )
    fields = json.loads(lines[0].removeprefix(RESULT_PREFIX))
    duration_s = fields["duration_us"] / 1e6
    return LoadResult(
        requests=fields["requests"],
        duration_s=duration_s,
        statuses={int(status): count for status, count in fields["statuses"].items()},
        timeouts=fields["timeouts"],
        socket_errors=fields["socket_errors"],
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        client_cpu_share=cpu_s / seconds,
        created_ids=fields["created_ids"],
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

"""What one retrieve costs inside the app, counted rather than timed: the Python calls it
makes and the ASGI layers it crosses (``__call__(scope, receive, send)``), under cProfile,
in the process, with no HTTP. Counts do not drift with the machine's load, so they compare
two revisions exactly: run it with ``PYTHONPATH`` set to another checkout for its figures.

    python -m bench.request_path
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import prospect_mock
from prospect_mock import create_app

PATH = b"/api/crm/prospect/prospect_abc123"
HEADERS = [(b"host", b"bench"), (b"authorization", b"Bearer sk_test_bench")]


async def _retrieve(app: Any) -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # as a client that keeps its connection: no disconnect
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": PATH.decode(), "raw_path": PATH, "root_path": "",
        "query_string": b"", "headers": HEADERS, "server": ("bench", 80),
        "client": ("127.0.0.1", 1), "extensions": {},
    }  # fmt: skip
    await app(scope, receive, send)
    return status


async def _measure(app: Any, requests: int) -> tuple[float, float, float]:
    assert await _retrieve(app) == 200, "the retrieve must succeed"
    started = time.perf_counter()
    for _ in range(requests):
        await _retrieve(app)
    per_request_us = (time.perf_counter() - started) / requests * 1e6
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        await _retrieve(app)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    calls = sum(entry[1] for entry in stats.values()) / requests
    hops = sum(entry[1] for (_, _, name), entry in stats.items() if name == "__call__")
    return calls, hops / requests, per_request_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    requests = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Path(folder) / "bench.json")
        calls, hops, per_request_us = asyncio.run(_measure(app, requests))
    print(f"prospect_mock from {Path(prospect_mock.__file__).parent}")
    print(f"Per retrieve: {calls:.0f} Python calls, {hops:.0f} __call__ hops, ")
    print(f"{per_request_us:.0f} µs in-process, without the profiler")


if __name__ == "__main__":
    main()

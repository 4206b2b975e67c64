"""One readable line per request on the console: method, path, status, duration."""

from __future__ import annotations

import time

import click
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

_STATUS_COLORS = {2: "green", 3: "cyan", 4: "yellow", 5: "red"}


class AccessLog:
    """``GET /api/crm/prospect?limit=5 200 3.1 ms``, colored when the console is a terminal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            click.echo(_line(scope, status, elapsed_ms))


def _line(scope: Scope, status: int, elapsed_ms: float) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope["path"] + (f"?{query}" if query else "")
    color = _STATUS_COLORS.get(status // 100)
    return (
        f"{click.style(scope['method'], bold=True)} {target} "
        f"{click.style(str(status), fg=color)} {elapsed_ms:.1f} ms"
    )

"""A cap on the size of request bodies, checked before anything else reads them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import send_problem

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodySizeLimit", "read_body", "replay"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimit:
    """Answer 413 to a body over ``max_bytes``, whether or not it declares its length.

    The body is read whole here (it is small by construction) and replayed to the app, so
    nothing behind this middleware ever sees a partial body, nor one of unknown length: a
    chunked body is handed on with the Content-Length it turned out to have, since Connexion
    takes a request without one for a request without a body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive)
        if body is None:
            await self._too_large(scope, receive, send)
            return
        await self.app(_sized(scope, len(body)), replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"The request body is larger than {self.max_bytes} bytes."
        await send_problem(413, detail, scope, receive, send)


def _sized(scope: Scope, length: int) -> Scope:
    """``scope``, its chunked body (if it had one) declared as ``length`` bytes."""
    names = [name for name, _ in scope["headers"]]
    if b"transfer-encoding" not in names or b"content-length" in names:
        return scope
    headers = [(name, value) for name, value in scope["headers"] if name != b"transfer-encoding"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


async def read_body(receive: Receive) -> bytes:
    """The request's whole body, for a middleware behind :class:`BodySizeLimit` (or one
    that forwards the body as it came)."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body``, read already, as the request's one message first."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

"""A cap on the size of request bodies, checked before anything else reads them.

The body is read whole (it is small by construction) and replayed to Connexion, so that
nothing behind the plan ever sees a partial body, nor one of unknown length: a chunked body
is handed on with the Content-Length it turned out to have, since Connexion takes a request
without one for a request without a body.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from prospect_mock.web.errors import BodyTooLarge

__all__ = ["DEFAULT_MAX_BODY_BYTES", "read_body", "read_body_within", "replay", "sized"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


async def read_body_within(receive: Receive, max_bytes: int, read: bytearray) -> None:
    """Read the request's whole body into ``read``, as it arrives (so that the journal has
    what came of a body refused); :class:`BodyTooLarge` once it is over ``max_bytes``."""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        read.extend(message.get("body", b""))
        if len(read) > max_bytes:
            raise BodyTooLarge(f"The request body is larger than {max_bytes} bytes.")
        more = message.get("more_body", False)


def sized(scope: Scope, length: int) -> Scope:
    """``scope``, its chunked body (if it had one) declared as ``length`` bytes."""
    names = [name for name, _ in scope["headers"]]
    if b"transfer-encoding" not in names or b"content-length" in names:
        return scope
    headers = [(name, value) for name, value in scope["headers"] if name != b"transfer-encoding"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


async def read_body(receive: Receive) -> bytes:
    """The request's whole body, for an app that forwards the body as it came."""
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

"""Serving the app: the sockets opened before uvicorn starts, and uvicorn run on them with
the bounded protocol (:mod:`~prospect_mock.web.http.protocol`).

The sockets are opened first (:func:`listen`), so that whoever starts the server learns the
port it really got, the one the system picks for port 0 included. On SIGTERM or SIGINT
uvicorn lets every request in flight finish, but those held open on purpose.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE, Config

from prospect_mock.web.http.protocol import BoundedHttpToolsProtocol

__all__ = ["CannotListen", "listen", "run"]


class CannotListen(Exception):
    """The address cannot be listened on; the message says which one and why."""


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on every address of ``host`` at ``port``, as uvicorn would open
    them; for port 0 the system picks one, the same for every address. Connections wait
    in the sockets' queue until :func:`run` serves them.

    >>> listen("127.0.0.1", 0)[0].getsockname()  # doctest: +SKIP
    ('127.0.0.1', 40437)
    """
    try:
        # "" is every interface, as for asyncio.
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise CannotListen(f"Cannot listen on {host}: {_why(error)}.") from None
    sockets: list[socket.socket] = []
    try:
        # dict.fromkeys: an address listed twice (as in some /etc/hosts) is bound once.
        for family, kind, protocol, _, address in dict.fromkeys(addresses):
            try:
                sock = socket.socket(family, kind, protocol)
            except OSError:
                continue  # a family this system lacks (no IPv6), skipped as asyncio does
            sockets.append(sock)
            _bind_and_listen(sock, (address[0], port, *address[2:]))
            port = sock.getsockname()[1]  # the one picked for port 0, for every address
    except CannotListen:
        for sock in sockets:
            sock.close()
        raise
    if not sockets:
        raise CannotListen(f"Cannot listen on {host}: no address of it can be used here.")
    return sockets


def _bind_and_listen(sock: socket.socket, address: tuple[Any, ...]) -> None:
    try:
        # The options asyncio sets on the sockets uvicorn opens itself.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen()  # uvicorn listens again, with its own backlog
    except OSError as error:
        host = f"[{address[0]}]" if sock.family == socket.AF_INET6 else address[0]
        raise CannotListen(f"Cannot listen on {host}:{address[1]}: {_why(error)}.") from None


def _why(error: OSError) -> str:
    reason = error.strerror or str(error)
    return reason[0].lower() + reason[1:]


def run(app: ASGIApp, sockets: list[socket.socket], log_level: str = "info") -> None:
    """Serve ``app`` on ``sockets`` until SIGTERM or SIGINT, finishing the requests in
    flight but those held open on purpose, whose connections close at once.

    >>> run(create_app("prospects.json"), listen("127.0.0.1", 8000))  # doctest: +SKIP
    """
    config = Config(app, http=BoundedHttpToolsProtocol, log_level=log_level, access_log=False)
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:  # as uvicorn.run ends
        sys.exit(STARTUP_FAILURE)

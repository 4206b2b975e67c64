"""The server behind the proxy: a request sent to it as the client sent it (its headers as
the bytes received), its answer read whole within one deadline and one size cap, and what
goes wrong turned into the problem a proxy answers, naming the rule broken."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit

import httpx
from starlette.datastructures import Headers

from prospect_mock.proxy.http11 import BrokenFraming, H11Transport
from prospect_mock.proxy.violations import Side

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_TIMEOUT_S",
    "Answer",
    "Upstream",
    "UpstreamFailed",
    "end_to_end",
    "has_credentials",
]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""The largest answer read, its body as sent and as decoded: the Prospect API's answers are
small JSON documents, and a larger one is held in memory whole before it is checked."""
DECODE_SLICE_BYTES = 8 * 1024
"""The body is decoded this much at a time, so that a small body that inflates a thousandfold
(a zip bomb) stops at the cap too."""

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
"""RFC 9110 7.6.1: headers of one connection, which no proxy forwards."""

RawHeaders = list[tuple[bytes, bytes]]


def has_credentials(url: str) -> bool:
    """Whether ``url`` names a user or a password: httpx would send them as Basic auth in
    place of each client's own ``Authorization``."""
    return "@" in urlsplit(url).netloc


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> RawHeaders:
    """``headers`` (names lowercased) without the hop-by-hop ones, those that ``Connection``
    names included, and without ``Host`` and ``Content-Length``, which belong to the next
    hop's message."""
    lowered = [(name.lower(), value) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in lowered
        if name == b"connection"
        for token in value.split(b",")
    }
    dropped = HOP_BY_HOP | named | {b"host", b"content-length"}
    return [(name, value) for name, value in lowered if name not in dropped]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: RawHeaders
    """End to end, as the upstream sent them (``Content-Encoding`` included), names
    lowercased."""
    raw: bytes
    """The body as sent, encoded if ``Content-Encoding`` says so: what the client gets."""
    body: bytes
    """The body decoded: what the contract describes."""


class UpstreamFailed(Exception):
    """No usable answer: ``status`` is what the client gets instead, ``rule`` names why, and
    ``side`` says whose fault it is (the request's, if it could not be sent on)."""

    def __init__(self, status: int, rule: str, detail: str, side: Side = "response") -> None:
        super().__init__(detail)
        self.status, self.rule, self.detail, self.side = status, rule, detail, side


class Upstream:
    def __init__(
        self,
        url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if has_credentials(url):
            raise ValueError("The upstream's URL must not carry a user name or password.")
        self.url = url.rstrip("/")
        self.timeout_s, self.max_bytes = timeout_s, max_bytes
        self._transport = transport or H11Transport()
        self._client: httpx.AsyncClient | None = None

    async def send(
        self, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Answer:
        """Send the request on (``path`` as it came, percent-encoded), and read the whole
        answer: reading one whole lets the proxy check it before passing it on."""
        request = self._request(method, path, query, headers, body)
        try:
            # One deadline over the whole exchange: connecting, sending and every read.
            async with asyncio.timeout(self.timeout_s):
                status, kept, raw = await self._exchange(request)
            return Answer(status, kept, raw, self._decoded(status, kept, raw))
        except TimeoutError:
            detail = f"did not answer within {self.timeout_s:g} seconds"
            raise self._failed(504, "upstream-timeout", detail) from None
        except BrokenFraming as error:
            detail = (
                f"sent an answer whose end is not certain ({_reason(error)}); "
                "it was dropped and its connection closed"
            )
            raise self._failed(502, "upstream-framing", detail) from None
        except httpx.LocalProtocolError as error:
            detail = f"The request cannot be sent on as HTTP/1.1: {_reason(error)}."
            raise UpstreamFailed(400, "request-unforwardable", detail, "request") from None
        except httpx.DecodingError as error:
            detail = f"sent a body that its Content-Encoding does not decode: {_reason(error)}"
            raise self._failed(502, "upstream-encoding", detail) from None
        except httpx.HTTPError as error:
            detail = f"did not answer: {_reason(error)}"
            raise self._failed(502, "upstream-unreachable", detail) from None

    def _request(
        self, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> httpx.Request:
        url = self.url + path + (f"?{query}" if query else "")
        try:
            # Built alone rather than by the client, which would add its own default headers.
            return httpx.Request(method, url, headers=end_to_end(headers.raw), content=body)
        except httpx.InvalidURL as error:
            detail = f"The request cannot be sent on: {_reason(error)}."
            raise UpstreamFailed(400, "request-unforwardable", detail, "request") from None

    async def _exchange(self, request: httpx.Request) -> tuple[int, RawHeaders, bytes]:
        response = await self._session().send(request, stream=True)
        try:
            raw = await self._read(response)
        finally:
            await response.aclose()  # before a whole answer, this closes the connection
        # The server under the proxy adds its own Date and Server to every answer: the
        # upstream's would be sent twice.
        kept = [
            (name, value)
            for name, value in end_to_end(response.headers.raw)
            if name not in (b"date", b"server")
        ]
        return response.status_code, kept, raw

    async def _read(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _decoded(self, status: int, headers: RawHeaders, raw: bytes) -> bytes:
        chunks, size = [], 0
        for chunk in httpx.Response(status, headers=headers, content=_slices(raw)).iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> UpstreamFailed:
        detail = f"sent an answer larger than {self.max_bytes} bytes; it was dropped"
        return self._failed(502, "upstream-too-large", detail)

    def _failed(self, status: int, rule: str, detail: str) -> UpstreamFailed:
        return UpstreamFailed(status, rule, f"The upstream {self.url} {detail}.")

    def _session(self) -> httpx.AsyncClient:
        if self._client is None:
            # No cookie kept (they are the clients', and secret), no redirect followed, no
            # proxy from the environment: each answer comes back as the upstream sent it.
            no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
            self._client = httpx.AsyncClient(
                timeout=None,  # the deadline in send() is the one
                follow_redirects=False,
                trust_env=False,
                cookies=no_cookies,
                transport=self._transport,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _slices(raw: bytes) -> Iterator[bytes]:
    view = memoryview(raw)
    for start in range(0, len(raw), DECODE_SLICE_BYTES):
        yield bytes(view[start : start + DECODE_SLICE_BYTES])


def _reason(error: Exception) -> str:
    return (str(error) or type(error).__name__).rstrip(".")

"""The server behind the proxy: a request sent to it as the client sent it, its answer
read whole, and a failure to answer turned into the 502 or 504 a proxy gives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit, urlunsplit

import httpx
from starlette.datastructures import Headers

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Answer",
    "Upstream",
    "UpstreamFailed",
    "end_to_end",
    "without_credentials",
]

DEFAULT_TIMEOUT_S = 30.0

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""RFC 9110 7.6.1: headers of one connection, which no proxy forwards."""


def without_credentials(url: str) -> str:
    """``url`` without a user name or password, which are secrets and never shown."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def end_to_end(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones, those that ``Connection`` names included,
    and without ``Host`` and ``Content-Length``, which belong to the next hop's message."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    dropped = HOP_BY_HOP | named | {"host", "content-length"}
    return [(name, value) for name, value in headers if name.lower() not in dropped]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    """End to end, as the upstream sent them (``Content-Encoding`` included)."""
    raw: bytes
    """The body as sent, encoded if ``Content-Encoding`` says so: what the client gets."""
    body: bytes
    """The body decoded: what the contract describes."""


class UpstreamFailed(Exception):
    """The upstream did not answer: ``status`` is 502 or 504, ``rule`` names why."""

    def __init__(self, status: int, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.rule, self.detail = status, rule, detail


class Upstream:
    def __init__(
        self,
        url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = without_credentials(self.url)
        """The upstream as messages name it: a password in its URL is never shown."""
        self.timeout_s = timeout_s
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def send(
        self, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Answer:
        """Send the request on (``path`` as it came, percent-encoded), and read the whole
        answer: this API's answers are small JSON documents, and reading one whole lets the
        proxy check it before passing it on."""
        url = self.url + path + (f"?{query}" if query else "")
        # Built alone rather than by the client, which would add its own default headers.
        request = httpx.Request(method, url, headers=end_to_end(headers.items()), content=body)
        try:
            # httpx's timeout bounds each read; this bounds the whole answer.
            async with asyncio.timeout(self.timeout_s):
                response = await self._session().send(request, stream=True)
                try:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamFailed(
                504,
                "upstream-timeout",
                f"The upstream {self.name} did not answer within {self.timeout_s:g} seconds.",
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            reason = str(error) or type(error).__name__
            raise UpstreamFailed(
                502, "upstream-unreachable", f"The upstream {self.name} did not answer: {reason}."
            ) from None
        # The server under the proxy adds its own Date and Server to every answer: the
        # upstream's would be sent twice.
        kept = [
            (name, value)
            for name, value in end_to_end(list(response.headers.multi_items()))
            if name.lower() not in ("date", "server")
        ]
        decoded = httpx.Response(response.status_code, headers=kept, content=raw).content
        return Answer(response.status_code, kept, raw, decoded)

    def _session(self) -> httpx.AsyncClient:
        if self._client is None:
            # No cookie kept (they are the clients', and secret), no redirect followed, no
            # proxy from the environment: each answer comes back as the upstream sent it.
            no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
            self._client = httpx.AsyncClient(
                timeout=self.timeout_s,
                follow_redirects=False,
                trust_env=False,
                cookies=no_cookies,
                transport=self._transport,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

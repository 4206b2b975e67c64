"""``prospect-mock proxy``: a contract-checking proxy in front of a real Prospect API.

Every request is sent on as it came and every answer passed back as it came, while both are
held against ``openapi.yaml``; what breaks the contract is listed (``/__admin/violations``),
what was exercised is counted (``/__admin/coverage``), and at the end both are reported.
"""

from __future__ import annotations

from prospect_mock.proxy.exchange import VIOLATIONS_HEADER, ProxyApp
from prospect_mock.proxy.recording import FixtureRecorder
from prospect_mock.proxy.upstream import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_TIMEOUT_S,
    Upstream,
    has_credentials,
)

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_TIMEOUT_S",
    "VIOLATIONS_HEADER",
    "FixtureRecorder",
    "ProxyApp",
    "Upstream",
    "has_credentials",
]

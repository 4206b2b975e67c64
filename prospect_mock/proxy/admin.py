"""The proxy's own admin operations, ``GET /__admin/violations`` and
``GET /__admin/coverage``, served from their part of ``admin.yaml`` (tagged ``Proxy``) and
validated by Connexion as the mock's are."""

from __future__ import annotations

import copy
from typing import Any

from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from prospect_mock.contract.documents import load_proxy_admin_spec
from prospect_mock.contract.validation import VALIDATOR_MAP
from prospect_mock.proxy.coverage import Coverage
from prospect_mock.proxy.violations import Violations
from prospect_mock.web.errors import install_error_handlers

__all__ = ["ADMIN_PATHS", "admin_app"]

ADMIN_PATHS = frozenset(f"/__admin{path}" for path in load_proxy_admin_spec()["paths"])
"""Answered by the proxy itself; every other path goes to the upstream."""

_JSON = {"Content-Type": "application/json"}

Answer = tuple[dict[str, Any], int, dict[str, str]]


def admin_app(violations: Violations, coverage: Coverage) -> AsyncApp:
    """A Connexion app whose operations answer from ``violations`` and ``coverage``."""

    def list_violations(
        limit: int, side: str | None = None, operation: str | None = None
    ) -> Answer:
        kept, total = violations.newest(limit, side, operation)  # type: ignore[arg-type]
        return {"data": [v.to_json() for v in kept], "total": total}, 200, _JSON

    def get_coverage() -> Answer:
        return coverage.to_json(), 200, _JSON

    handlers = {"proxy.list_violations": list_violations, "proxy.get_coverage": get_coverage}
    app = AsyncApp(__name__, strict_validation=True, validator_map=VALIDATOR_MAP)
    app.add_api(
        copy.deepcopy(load_proxy_admin_spec()),
        resolver=Resolver(function_resolver=handlers.__getitem__),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    install_error_handlers(app)
    return app

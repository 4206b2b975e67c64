"""Finding the operation a request is for, in both contracts: by method and path, as
OpenAPI matches them (a concrete path before a templated one)."""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlparse

from starlette.routing import compile_path
from starlette.types import Scope

from prospect_mock.contract.documents import HTTP_METHODS, load_admin_spec, load_spec

__all__ = [
    "allowed_methods",
    "api_index",
    "is_concrete_path",
    "match_operation",
    "route_path",
    "routed_operation",
]


@cache
def _method_table() -> tuple[tuple[str, re.Pattern[str], dict[str, str]], ...]:
    """Every path of both contracts, under its base path, with the operation of each method
    it offers."""
    table = []
    for spec in (load_spec(), load_admin_spec()):
        base = urlparse(spec["servers"][0]["url"]).path.rstrip("/")
        for template, item in spec["paths"].items():
            operations = {m.upper(): item[m]["operationId"] for m in item if m in HTTP_METHODS}
            table.append((base + template, compile_path(base + template)[0], operations))
    return tuple(table)


def _operations_at(path: str) -> list[dict[str, str]]:
    """The operations of every path that matches ``path``. As OpenAPI says, a concrete path
    (``/prospect-lead/reorder``) is matched before a templated one (``/prospect-lead/{id}``)."""
    concrete = [operations for template, _, operations in _method_table() if template == path]
    return concrete or [operations for _, regex, operations in _method_table() if regex.match(path)]


def allowed_methods(path: str) -> list[str]:
    """The methods the contract offers on ``path`` (HEAD goes with GET), sorted."""
    methods = set().union(*_operations_at(path))
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def match_operation(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operationId that serves ``method`` on ``path`` in the Prospect API's contract,
    with the values of the path's parameters; None if it has none there."""
    method = "GET" if method == "HEAD" else method
    by_template, in_order = api_index()
    exact = by_template.get(path)
    for regex, operations in [exact] if exact else in_order:
        found = regex.match(path)
        if found and method in operations:
            return operations[method], found.groupdict()
    return None


def is_concrete_path(path: str) -> bool:
    """Whether ``path`` is one of the contract's paths that has no parameter."""
    return path in _concrete_paths()


_Row = tuple[re.Pattern[str], dict[str, str]]


@cache
def api_index() -> tuple[dict[str, _Row], list[_Row]]:
    """The Prospect API's paths, built once: by template, for a path that is one (a
    concrete path is matched first), and in the contract's order; each with its pattern and
    the operation of each method it offers."""
    table = _method_table()[: len(load_spec()["paths"])]  # the Prospect API's paths come first
    return {template: (regex, ops) for template, regex, ops in table}, [
        (regex, ops) for _, regex, ops in table
    ]


@cache
def _concrete_paths() -> frozenset[str]:
    return frozenset(template for template, _, _ in _method_table())


def route_path(scope: Scope) -> str:
    """The request's path as the contract knows it: without the workspace prefix, which
    routing puts in ASGI's ``root_path``."""
    path: str = scope["path"]
    return path[len(scope.get("root_path", "")) :] or "/"


def routed_operation(scope: Scope, handlers_package: str) -> str:
    """The operationId Connexion routed the request to ("" before routing or for none).
    Connexion names it by the handler it resolved it to, ``handlers_package.`` first."""
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    operation: str = routing.get("operation_id") or ""
    return operation.removeprefix(f"{handlers_package}.")

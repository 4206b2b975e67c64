"""The contract, ``openapi.yaml``, as shipped inside the package."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from connexion.spec import Specification
from starlette.routing import compile_path
from starlette.types import Scope

__all__ = [
    "ADMIN_SPEC_PATH",
    "SPEC_PATH",
    "allowed_methods",
    "attribute_names",
    "is_concrete_path",
    "load_admin_spec",
    "load_proxy_admin_spec",
    "load_spec",
    "match_operation",
    "route_path",
    "routed_operation",
]

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
ADMIN_SPEC_PATH = Path(__file__).with_name("admin.yaml")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it: the pure-Python one takes a fifth of a second."""


@cache
def load_spec() -> dict[str, Any]:
    """The parsed contract, read once per process (``$ref`` left unresolved). Do not
    change it: hand a copy to whatever might."""
    with SPEC_PATH.open(encoding="utf-8") as file:
        spec: dict[str, Any] = yaml.load(file, Loader=_YAML_LOADER)
        return spec


PROXY_TAG = "Proxy"
"""The admin operations that only ``prospect-mock proxy`` serves (:mod:`prospect_mock.proxy`)."""


@cache
def _whole_admin_spec() -> dict[str, Any]:
    spec: dict[str, Any] = Specification.load(ADMIN_SPEC_PATH).spec
    return spec


@cache
def load_admin_spec() -> dict[str, Any]:
    """The admin API's contract as the mock serves it, with every ``$ref`` resolved,
    including those into ``openapi.yaml``, so that it is served (and read by Swagger UI) as
    one document. The operations tagged ``Proxy`` are left out: the proxy serves those."""
    return _with_tag(_whole_admin_spec(), PROXY_TAG, keep=False)


@cache
def load_proxy_admin_spec() -> dict[str, Any]:
    """The admin operations that ``prospect-mock proxy`` serves (tagged ``Proxy``), ``$ref``
    resolved, as a document of their own."""
    return _with_tag(_whole_admin_spec(), PROXY_TAG, keep=True)


def _with_tag(spec: dict[str, Any], tag: str, *, keep: bool) -> dict[str, Any]:
    """``spec`` with only the operations tagged ``tag`` (``keep``), or only the others; a
    path left without operations goes, and so does the tag if it has none left."""
    paths = {}
    for template, item in spec["paths"].items():
        kept = {
            key: value
            for key, value in item.items()
            if key not in _HTTP_METHODS or (tag in value.get("tags", ())) == keep
        }
        if any(key in _HTTP_METHODS for key in kept):
            paths[template] = kept
    tags = [t for t in spec.get("tags", []) if (t["name"] == tag) == keep]
    return {**spec, "paths": paths, "tags": tags}


def attribute_names(schema_name: str) -> tuple[str, ...]:
    """Every attribute the contract documents for an object, in the contract's order."""
    return tuple(load_spec()["components"]["schemas"][schema_name]["properties"])


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def _method_table() -> tuple[tuple[str, re.Pattern[str], dict[str, str]], ...]:
    """Every path of both contracts, under its base path, with the operation of each method
    it offers."""
    table = []
    for spec in (load_spec(), load_admin_spec()):
        base = urlparse(spec["servers"][0]["url"]).path.rstrip("/")
        for template, item in spec["paths"].items():
            operations = {m.upper(): item[m]["operationId"] for m in item if m in _HTTP_METHODS}
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
    table = _method_table()[: len(load_spec()["paths"])]  # the Prospect API's paths come first
    concrete = [row for row in table if row[0] == path]
    for _, regex, operations in concrete or table:
        found = regex.match(path)
        if found and method in operations:
            return operations[method], found.groupdict()
    return None


def is_concrete_path(path: str) -> bool:
    """Whether ``path`` is one of the contract's paths that has no parameter."""
    return any(template == path for template, _, _ in _method_table())


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

"""The two contracts as shipped inside the package: the Prospect API's (``openapi.yaml``)
and the admin API's (``admin.yaml``), each parsed once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from connexion.spec import Specification

__all__ = [
    "ADMIN_SPEC_PATH",
    "HTTP_METHODS",
    "PROXY_TAG",
    "SPEC_PATH",
    "attribute_names",
    "load_admin_spec",
    "load_proxy_admin_spec",
    "load_spec",
]

_PACKAGE = Path(__file__).parent.parent
SPEC_PATH = _PACKAGE / "openapi.yaml"
ADMIN_SPEC_PATH = _PACKAGE / "admin.yaml"


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
            if key not in HTTP_METHODS or (tag in value.get("tags", ())) == keep
        }
        if any(key in HTTP_METHODS for key in kept):
            paths[template] = kept
    tags = [t for t in spec.get("tags", []) if (t["name"] == tag) == keep]
    return {**spec, "paths": paths, "tags": tags}


def attribute_names(schema_name: str) -> tuple[str, ...]:
    """Every attribute the contract documents for an object, in the contract's order."""
    return tuple(load_spec()["components"]["schemas"][schema_name]["properties"])


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

"""prospect-mock: a stateful mock of the Prospect API, served from its OpenAPI contract.

>>> from prospect_mock import create_app
>>> app = create_app("prospect-mock.json")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prospect_mock.web.app import create_app

__all__ = ["__version__", "create_app"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads the package's plugin in every run of every project
    # that has it installed, and importing Connexion would cost each of them 0.4 s.
    if name == "create_app":
        from prospect_mock.web.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

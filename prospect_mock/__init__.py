"""prospect-mock: a stateful mock of the Prospect API, served from its OpenAPI contract.

>>> from prospect_mock import create_app
>>> app = create_app("prospect-mock.json")   # doctest: +SKIP
"""

from .app import create_app

__all__ = ["__version__", "create_app"]

__version__ = "0.1.0"

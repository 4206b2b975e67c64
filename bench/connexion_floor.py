"""Connexion alone: the project's ``openapi.yaml`` served by a plain Connexion AsyncApp whose
handlers return the ceiling's canned JSON. No storage, no CORS, no journal, nothing that
prospect-mock adds; any bearer key is accepted. It is what routing, authentication and
validation by Connexion cost by themselves: the mock cannot be faster than the framework it
runs on.

    python -m uvicorn bench.connexion_floor:app --port 8101
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from connexion import AsyncApp
from connexion.resolver import Resolver
from connexion.security import BearerSecurityHandler

from .ceiling import ANSWERS
from .servers import SPEC

JSON = {"Content-Type": "application/json"}
"""The contract also documents problem+json answers: Connexion must be told which one."""


def handler_for(operation_id: str) -> Callable[..., Awaitable[tuple[Any, int, dict[str, str]]]]:
    # The operations the phases do not drive answer an empty object.
    answer = ANSWERS.get(operation_id, lambda id_, body: ({}, 200))

    async def handler(**arguments: Any) -> tuple[Any, int, dict[str, str]]:
        return (*answer(arguments.get("id"), arguments.get("body")), JSON)

    return handler


class AnyBearerKey(BearerSecurityHandler):  # type: ignore[misc]
    def get_fn(self, security_scheme: Any, required_scopes: Any) -> Callable[..., Any]:
        return lambda request: {"sub": "bench"}


app = AsyncApp(__name__, security_map={"bearer": AnyBearerKey})
app.add_api(SPEC, resolver=Resolver(function_resolver=handler_for))

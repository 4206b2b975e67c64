"""Bearer-key authentication for every operation of the contract.

By default any key that starts with ``sk_test_`` is accepted, so that the reference's curl
lines work as written; with explicit keys, only those are.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest
from connexion.security import BearerSecurityHandler

__all__ = ["TEST_KEY_PREFIX", "KeyPolicy", "bearer_security_handler"]

TEST_KEY_PREFIX = "sk_test_"


class KeyPolicy:
    """Which bearer keys are accepted: exactly ``api_keys`` if given, else any test key."""

    def __init__(self, api_keys: Iterable[str] = ()) -> None:
        self._keys = tuple(api_keys)

    def accepts(self, key: str) -> bool:
        if not self._keys:
            return key.startswith(TEST_KEY_PREFIX) and len(key) > len(TEST_KEY_PREFIX)
        return any(secrets.compare_digest(key.encode(), known.encode()) for known in self._keys)

    def describe(self) -> str:
        if self._keys:
            return "only the keys it was started with"
        return f"any key that starts with '{TEST_KEY_PREFIX}'"


def _unauthorized(detail: str) -> ProblemException:
    return ProblemException(
        status=401, title="Unauthorized", detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def bearer_security_handler(policy: KeyPolicy) -> type[BearerSecurityHandler]:
    """A Connexion security handler for ``scheme: bearer`` that applies ``policy``."""

    class PolicyBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        def get_fn(self, security_scheme: Any, required_scopes: Any) -> Callable[..., Any]:
            return self._verify

        def _verify(self, request: ConnexionRequest) -> dict[str, str]:
            header = request.headers.get("Authorization", "").strip()
            if not header:
                raise _unauthorized(
                    'No API key was given: send the header "Authorization: Bearer sk_test_...".'
                )
            scheme, _, key = header.partition(" ")
            key = key.strip()
            if scheme.lower() != "bearer" or not key:
                raise _unauthorized('The Authorization header must be "Bearer" and a key.')
            if not policy.accepts(key):
                raise _unauthorized(
                    f"The API key is not accepted; this mock accepts {policy.describe()}."
                )
            return {"sub": "api-key"}

    return PolicyBearerHandler

"""Connexion's AsyncApp, with the work it repeats on every request done once per operation.

Connexion 3 rebuilds, for every request, the handler's decorators (inspecting its signature
each time), the URI parser, the parameter validator and the body validator with its compiled
JSON schema. None of them depends on the request, so here each operation builds them the
first time it is called and keeps them. Validation itself is unchanged: the same validators
(:data:`prospect_mock.validation.VALIDATOR_MAP`) check the same rules on every request.
"""

from __future__ import annotations

import functools
from typing import Any

from connexion import AsyncApp, utils
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.operations import AbstractOperation
from connexion.uri_parsing import AbstractURIParser
from starlette.types import Receive, Scope, Send

__all__ = ["PreparedAsyncApp"]


def _uri_parser(operation: AbstractOperation) -> AbstractURIParser:
    return operation.uri_parser_class(operation.parameters, operation.body_definition())


class _PreparedOperation(AsyncOperation):  # type: ignore[misc]
    """Calls the handler through decorators built once, with a URI parser built once."""

    def __init__(self, fn: Any, *, operation: AbstractOperation, **options: Any) -> None:
        super().__init__(fn, operation_id=operation.operation_id, **options)
        self._uri_parser = _uri_parser(operation)
        decorator = StarletteDecorator(
            pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        self._decorated = decorator.decorate(self._fn)

    @classmethod
    def from_operation(
        cls, operation: AbstractOperation, *, pythonic_params: bool, jsonifier: Any
    ) -> _PreparedOperation:
        return cls(
            operation.function,
            operation=operation,
            pythonic_params=pythonic_params,
            jsonifier=jsonifier,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _JSONOnlyRequest(scope, receive, uri_parser=self._uri_parser)
        response = await self._decorated(request)
        await response(scope, receive, send)


class _JSONOnlyRequest(ConnexionRequest):  # type: ignore[misc]
    """A request whose body is never read as a form: the contract takes JSON only. Connexion
    parses any multipart body for uploaded files, even on a GET, and a broken one (no
    boundary) became a 400 that the operation does not document; the contract test proxy
    found it."""

    async def files(self) -> dict[str, Any]:
        return {}


class _PreparedApi(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> AsyncOperation:
        return _PreparedOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _PreparedASGIApp(AsyncASGIApp):  # type: ignore[misc]
    api_cls = _PreparedApi


class _PreparedValidationOperation(RequestValidationOperation):  # type: ignore[misc]
    """Validates with a parameter validator built once, and a body validator built once for
    each content type and charset."""

    @functools.cached_property
    def _parameter_validator(self) -> Any:
        return self._validator_map["parameter"](
            self._operation.parameters,
            uri_parser=_uri_parser(self._operation),
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )

    # Bounded: the charset comes from the client, and could be anything.
    @functools.lru_cache(maxsize=32)  # noqa: B019 - the operations live as long as the app
    def _body_validator(self, mime_type: str, encoding: str) -> Any:
        """The validator for this content type, or None if the body is not checked."""
        validator_class = self._validator_map["body"].get(mime_type)
        if validator_class is None or not self._operation.body_schema(mime_type):
            return None
        return validator_class(
            schema=self._operation.body_schema(mime_type),
            required=self._operation.request_body.get("required", False),
            nullable=utils.is_nullable(self._operation.body_definition(mime_type)),
            encoding=encoding,
            strict_validation=self.strict_validation,
            uri_parser=_uri_parser(self._operation),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameter_validator.validate(scope)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        validator = self._body_validator(mime_type, encoding)
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _PreparedValidationAPI(RequestValidationAPI):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return _PreparedValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class _PreparedRequestValidation(RequestValidationMiddleware):  # type: ignore[misc]
    api_cls = _PreparedValidationAPI


_MIDDLEWARES = [
    _PreparedRequestValidation if middleware is RequestValidationMiddleware else middleware
    for middleware in ConnexionMiddleware.default_middlewares
    # Responses are not validated at run time (the contract tests prove them instead), so
    # its layer would only pass every request through.
    if middleware is not ResponseValidationMiddleware
]


class PreparedAsyncApp(AsyncApp):  # type: ignore[misc]
    """An :class:`connexion.AsyncApp` whose operations prepare their work once."""

    def __init__(self, import_name: str, **options: Any) -> None:
        # AsyncApp.__init__ only creates its ASGI app, then hands over to AbstractApp.
        self._middleware_app = _PreparedASGIApp()
        # A copy: add_middleware inserts into the list it was given.
        AbstractApp.__init__(self, import_name, middlewares=list(_MIDDLEWARES), **options)

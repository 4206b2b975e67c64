"""Connexion's AsyncApp, with the work it repeats on every request done once per operation,
and the work it repeats within a request done once.

Connexion 3 rebuilds, for every request, the handler's decorators (inspecting its signature
each time), the URI parser, the parameter validator and the body validator with its compiled
JSON schema. None of them depends on the request, so here each operation builds them the
first time it is called and keeps them. Connexion also parses a request's parameters and
body twice, to validate them and then to call the handler; here the handler gets what
validation parsed (:class:`Parsed`). Validation itself is unchanged: the same validators
(:data:`prospect_mock.contract.validation.VALIDATOR_MAP`) check the same rules on every request.

Two steps of the request plan (:mod:`prospect_mock.web.plan`) run at Connexion's own points:
admission just before validation, once security has let the request through, and the
answer where the handler is called.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp, utils
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    CONTEXT_NAME,
    AsyncParameterDecorator,
    get_arguments,
    unwrap_decorators,
)
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from connexion.uri_parsing import AbstractURIParser
from connexion.utils import inspect_function_arguments
from starlette.types import Receive, Scope, Send

from prospect_mock.contract.validation import PARSED, Parsed
from prospect_mock.web.plan import admit, answer

__all__ = ["PreparedAsyncApp", "PreparedRequestValidation"]


def _uri_parser(operation: AbstractOperation) -> AbstractURIParser:
    return operation.uri_parser_class(operation.parameters, operation.body_definition())


class _PreparedParameters(AsyncParameterDecorator):  # type: ignore[misc]
    """Connexion's parameter decorator, made for one operation known in advance: it reads
    the request body only for a handler that takes one, and reads the operation itself
    rather than through Connexion's context proxy, a lookup for every attribute."""

    def __init__(self, operation: AbstractOperation, **options: Any) -> None:
        super().__init__(**options)
        self._operation = operation

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(function))
        operation, sanitize = self._operation, self.sanitize_fn
        takes_body = has_kwargs or sanitize(operation.body_name("")) in arguments

        async def call(request: ConnexionRequest) -> Any:
            kwargs = get_arguments(
                operation,
                path_params=request.path_params,
                query_params=request.query_params,
                body=await request.get_body() if takes_body else None,
                files={},  # the contract takes JSON only
                arguments=arguments,
                has_kwargs=has_kwargs,
                sanitize=sanitize,
                content_type=request.mimetype,
            )
            # What connexion.decorators.parameter.prep_kwargs adds: the security context.
            kwargs = {sanitize(name): value for name, value in kwargs.items()}
            context = request.context
            kwargs.update(
                (name, value) for name, value in context.items() if has_kwargs or name in arguments
            )
            if CONTEXT_NAME in arguments:
                kwargs[CONTEXT_NAME] = context
            return await function(**kwargs)

        return call


class _PreparedDecorator(StarletteDecorator):  # type: ignore[misc]
    def __init__(self, operation: AbstractOperation, **options: Any) -> None:
        super().__init__(**options)
        self._operation = operation

    @property
    def _parameter_decorator_cls(self) -> Callable[..., _PreparedParameters]:
        return functools.partial(_PreparedParameters, self._operation)


class _PreparedOperation(AsyncOperation):  # type: ignore[misc]
    """Calls the handler through decorators built once, with a URI parser built once."""

    def __init__(self, fn: Any, *, operation: AbstractOperation, **options: Any) -> None:
        super().__init__(fn, operation_id=operation.operation_id, **options)
        self._uri_parser = _uri_parser(operation)
        decorator = _PreparedDecorator(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
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
        await answer(scope, receive, send, self._handle)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _JSONOnlyRequest(scope, receive, uri_parser=self._uri_parser)
        response = await self._decorated(request)
        await response(scope, receive, send)


class _JSONOnlyRequest(ConnexionRequest):  # type: ignore[misc]
    """A request whose body is never read as a form: the contract takes JSON only. Connexion
    parses any multipart body for uploaded files, even on a GET, and a broken one (no
    boundary) became a 400 that the operation does not document; the contract test proxy
    found it.

    Its parameters and JSON body are those validation parsed, where it did."""

    def __init__(self, scope: Scope, *args: Any, uri_parser: AbstractURIParser) -> None:
        super().__init__(scope, *args, uri_parser=uri_parser)
        self._validated: Parsed | None = scope.get("extensions", {}).get(PARSED)

    @property
    def path_params(self) -> dict[str, Any]:
        parsed = self._validated
        if parsed is None or parsed.path is None:
            return super().path_params  # type: ignore[no-any-return]
        return parsed.path

    @property
    def query_params(self) -> dict[str, Any]:
        parsed = self._validated
        if parsed is None or parsed.query is None:
            return super().query_params  # type: ignore[no-any-return]
        return parsed.query

    async def get_body(self) -> Any:
        parsed = self._validated
        if parsed is None or not parsed.has_body:
            return await super().get_body()
        return parsed.body

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
        admit(scope)  # Connexion's security has let the request through: see plan.py
        request = _JSONOnlyRequest(scope, uri_parser=self._parameter_validator.uri_parser)
        self._parameter_validator.validate_request(request)
        Parsed.of(scope).parameters(request.path_params, request.query_params)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        # Media types are case-insensitive (RFC 9110); the validators are keyed in lowercase.
        validator = self._body_validator(mime_type.lower(), encoding)
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


class PreparedRequestValidation(RequestValidationMiddleware):  # type: ignore[misc]
    """Connexion's request validation, with its validators built once per operation."""

    api_cls = _PreparedValidationAPI


class PreparedAsyncApp(AsyncApp):  # type: ignore[misc]
    """An :class:`connexion.AsyncApp` whose operations prepare their work once; its
    ``middlewares`` should use :class:`PreparedRequestValidation` for the same reason."""

    def __init__(self, import_name: str, **options: Any) -> None:
        # AsyncApp.__init__ only creates its ASGI app, then hands over to AbstractApp.
        self._middleware_app = _PreparedASGIApp()
        AbstractApp.__init__(self, import_name, **options)

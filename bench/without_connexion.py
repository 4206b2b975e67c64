"""The mock without Connexion: a measured prototype of the alternative (issue 14).

One ASGI app serves the operations of ``openapi.yaml`` with the mock's own handlers, store
and workspaces, and checks the same rules, in one layer where Connexion's middleware stack
has about sixteen: one routing step compiled from the contract's paths (concrete paths
before templated ones, 404 and 405), the bearer key (:class:`~prospect_mock.auth.KeyPolicy`),
every path and query parameter converted and validated (unknown query parameters refused,
defaults filled in), and the JSON body read by :func:`~prospect_mock.validation.parse_json`
and validated against the operation's schema. The JSON Schemas are compiled once per
operation with jsonschema-rs; only a request they refuse goes through the project's
jsonschema validators, to find the same sentence the mock answers. For the same request it
answers what the mock answers: the same status, headers and body, byte for byte with the
json module (orjson, used if it is installed, leaves out the spaces).

It exists to measure what Connexion costs, not to be served: whether the framework caps the
targets of issue 14 or the mock's own work does. So it has no CORS, journal, scenarios,
``Prefer``, docs or admin API, and no redirect of a trailing slash.

    python -m bench.without_connexion --db prospects.json --port 8102 [--json stdlib]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, urlparse

from connexion.context import _scope as connexion_scope  # what connexion.context.scope reads
from connexion.exceptions import ProblemException
from connexion.json_schema import Draft4RequestValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Receive, Scope, Send

from prospect_mock import http_server
from prospect_mock.auth import KeyPolicy
from prospect_mock.contract import load_spec
from prospect_mock.limits import DEFAULT_MAX_BODY_BYTES
from prospect_mock.messages import describe
from prospect_mock.problems import PROBLEM_JSON, problem_document, store_status
from prospect_mock.records import NotFound, OrderConflict
from prospect_mock.routing import HEADER, PREFIX
from prospect_mock.store import StoreError
from prospect_mock.validation import FORMAT_CHECKER, compiled_schema, parse_json
from prospect_mock.workspaces import (
    DEFAULT,
    REGISTRY_KEY,
    SCOPE_KEY,
    Workspace,
    WorkspaceError,
    Workspaces,
    check_name,
)

__all__ = ["create_app", "main"]

HANDLERS_PACKAGE = "prospect_mock.handlers"
Response = tuple[Any, int, dict[str, str]]
Handler = Callable[..., Awaitable[Response]]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CONVERTERS: dict[str, Callable[[str], Any]] = {"integer": int, "number": float}
_EMPTY_BODY = "The request body is empty; send a JSON object."
_NO_KEY = 'No API key was given: send the header "Authorization: Bearer sk_test_...".'
_NO_CONTENT_TYPE = "The request has a body but no Content-Type; send it as application/json."
_UNEXPECTED = "The mock hit an unexpected error; it has been logged and nothing was changed."
_WORKSPACE_HEADER = HEADER.lower().encode()

_logger = logging.getLogger(__name__)


class Refused(Exception):
    """A request answered with a problem document: ``status``, one sentence, headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def _refusal(error: Exception) -> Refused:
    """What the mock's error handlers (prospect_mock/problems.py) answer to ``error``."""
    if isinstance(error, Refused):
        return error
    if isinstance(error, ProblemException):  # parse_json's BadRequestProblem
        detail = " ".join(str(error.detail or "").split())
        return Refused(error.status, detail or HTTPStatus(error.status).description)
    if isinstance(error, NotFound):
        return Refused(404, str(error))
    if isinstance(error, OrderConflict):
        return Refused(409, str(error))
    if isinstance(error, WorkspaceError):
        return Refused(error.status, str(error))
    if isinstance(error, StoreError):
        return Refused(store_status(error), str(error))
    _logger.error("Unexpected error", exc_info=error)
    return Refused(500, _UNEXPECTED)


# The contract, compiled


def _resolved(node: Any, spec: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it names (the contract has no
    cycles)."""
    if isinstance(node, list):
        return [_resolved(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for step in node["$ref"].removeprefix("#/").split("/"):
            target = target[step]
        return _resolved(target, spec)
    return {key: _resolved(value, spec) for key, value in node.items()}


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter: converted as Connexion converts it, then validated."""

    name: str
    where: str
    required: bool
    default: Any
    schema: dict[str, Any]
    convert: Callable[[str], Any] | None
    check: Any

    @classmethod
    def of(cls, definition: dict[str, Any]) -> Parameter:
        schema = definition.get("schema", {})
        return cls(
            definition["name"],
            definition["in"],
            definition.get("required", False),
            schema.get("default"),
            schema,
            _CONVERTERS.get(schema.get("type", "")),
            compiled_schema(schema),
        )

    def value(self, raw: str | None) -> Any:
        if raw is None:
            if self.required:
                raise Refused(400, f"The {self.where} parameter '{self.name}' is required.")
            return self.default
        value = raw if self.convert is None else _converted(self.convert, raw)
        if not self.check.is_valid(value):
            raise Refused(400, self._sentence(value))
        return value

    def _sentence(self, value: Any) -> str:
        try:
            Draft4Validator(self.schema).validate(value)
        except ValidationError as error:
            return describe(error, subject=f"'{self.name}'")
        return f"'{self.name}' does not satisfy the contract."


def _converted(convert: Callable[[str], Any], raw: str) -> Any:
    """``raw`` converted as Connexion converts it, or left a string that the schema refuses."""
    try:
        return convert(raw)
    except ValueError:
        return raw


@dataclass(frozen=True)
class Body:
    """A JSON request body and its schema."""

    schema: dict[str, Any]
    required: bool
    check: Any

    @classmethod
    def of(cls, request_body: dict[str, Any]) -> Body:
        content = request_body["content"]
        if list(content) != ["application/json"]:
            raise NotImplementedError(f"request bodies of {list(content)}")
        schema = content["application/json"]["schema"]
        return cls(schema, request_body.get("required", False), compiled_schema(schema))

    def parsed(self, raw: bytes, content_type: bytes | None) -> Any:
        """The body, as the mock reads and checks it; None for an optional one left out."""
        if content_type is not None:
            text = content_type.decode("latin-1")
            if text.partition(";")[0].lower() != "application/json":
                detail = f"The request body must be application/json, not {text[:80]!r}."
                raise Refused(415, detail)
        if not raw.strip():
            if self.required:
                raise Refused(400, _EMPTY_BODY)
            return None
        if content_type is None:
            raise Refused(415, _NO_CONTENT_TYPE)
        body = parse_json(raw)
        if body is None:
            raise Refused(400, _EMPTY_BODY)
        if not self.check.is_valid(body):
            raise Refused(400, self._sentence(body))
        return body

    def _sentence(self, body: Any) -> str:
        try:
            Draft4RequestValidator(self.schema, format_checker=FORMAT_CHECKER).validate(body)
        except ValidationError as error:
            return describe(error)
        return "The request body does not satisfy the contract."


@dataclass(frozen=True)
class Operation:
    """One operation of the contract: its handler, what it takes and whether it needs a key."""

    handler: Handler
    path_parameters: tuple[Parameter, ...]
    query_parameters: dict[str, Parameter]
    body: Body | None
    secured: bool

    def arguments(self, path_values: dict[str, str], query_string: bytes) -> dict[str, Any]:
        """The handler's keyword arguments, from the request's path and query."""
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        unknown = query.keys() - self.query_parameters.keys()
        if unknown:
            known = ", ".join(self.query_parameters)
            takes = f"it takes {known}" if known else "it takes none"
            raise Refused(400, f"Unknown query parameter {sorted(unknown)[0][:60]!r}; {takes}.")
        arguments = {}
        for name, parameter in self.query_parameters.items():
            value = parameter.value(query.get(name))
            if value is not None:
                arguments[name] = value
        for parameter in self.path_parameters:
            arguments[parameter.name] = parameter.value(path_values[parameter.name])
        return arguments


def _handler(operation_id: str, takes: Sequence[str]) -> Handler:
    """The handler Connexion's RelativeResolver finds, checked to take ``takes``."""
    module_name, _, function_name = operation_id.rpartition(".")
    module = importlib.import_module(f"{HANDLERS_PACKAGE}.{module_name}")
    handler: Handler = getattr(module, function_name)
    accepted = inspect.signature(handler).parameters
    missing = [name for name in takes if name not in accepted]
    if missing:
        raise TypeError(f"{operation_id} does not take {', '.join(missing)}")
    return handler


def _operation(spec: dict[str, Any], item: dict[str, Any], method: str) -> Operation:
    operation = item[method]
    shared = [*item.get("parameters", []), *operation.get("parameters", [])]
    # An operation's own parameter replaces the path's of the same name and place.
    definitions = {(p["name"], p["in"]): p for p in _resolved(shared, spec)}.values()
    if any(d["in"] not in ("path", "query") for d in definitions):
        raise NotImplementedError(f"{operation['operationId']}: header or cookie parameters")
    request_body = _resolved(operation.get("requestBody"), spec)
    security = operation.get("security", spec.get("security", []))
    if any(name != "bearerAuth" for requirement in security for name in requirement):
        raise NotImplementedError(f"{operation['operationId']}: {security}")
    takes = [d["name"] for d in definitions] + (["body"] if request_body else [])
    return Operation(
        handler=_handler(operation["operationId"], takes),
        path_parameters=tuple(Parameter.of(d) for d in definitions if d["in"] == "path"),
        query_parameters={d["name"]: Parameter.of(d) for d in definitions if d["in"] == "query"},
        body=Body.of(request_body) if request_body else None,
        secured=bool(security) and {} not in security,
    )


Methods = dict[str, Operation]


def _pattern(template: str) -> re.Pattern[str]:
    """``/prospect/{id}`` as a regular expression: a parameter is one path segment."""
    parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, ..., text
    return re.compile(
        "".join(re.escape(p) if n % 2 == 0 else f"(?P<{p}>[^/]+)" for n, p in enumerate(parts))
    )


@dataclass(frozen=True)
class Router:
    """The contract's paths: a concrete one is matched before any templated one, as
    OpenAPI says (``/prospect-lead/reorder`` is not the lead ``reorder``)."""

    concrete: dict[str, Methods]
    templated: tuple[tuple[re.Pattern[str], Methods], ...]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Router:
        base = urlparse(spec["servers"][0]["url"]).path.rstrip("/")
        concrete: dict[str, Methods] = {}
        templated = []
        for template, item in spec["paths"].items():
            methods = {m.upper(): _operation(spec, item, m) for m in item if m in _HTTP_METHODS}
            if "GET" in methods:
                methods["HEAD"] = methods["GET"]
            if "{" in template:
                templated.append((_pattern(base + template), methods))
            else:
                concrete[base + template] = methods
        return cls(concrete, tuple(templated))

    def find(self, method: str, path: str, sent: str) -> tuple[Operation, dict[str, str]]:
        """The operation for ``method`` on ``path`` and the path's parameters; ``sent`` is
        the path as the client sent it, workspace prefix included, for the sentence."""
        methods, values = self.concrete.get(path), {}
        if methods is None:
            for pattern, candidate in self.templated:
                found = pattern.fullmatch(path)
                if found:
                    methods, values = candidate, found.groupdict()
                    break
            else:
                raise Refused(404, f"There is no resource at {sent[:200]}.")
        operation = methods.get(method)
        if operation is None:
            allowed = ", ".join(sorted(methods))
            detail = f"{method} is not allowed on {sent[:200]}; use {allowed}."
            raise Refused(405, detail, {"Allow": allowed})
        return operation, values


# The app


def _stdlib_json(body: Any) -> bytes:
    return (json.dumps(body) + "\n").encode()  # byte for byte what Connexion's Jsonifier sends


def _encoder(library: str) -> tuple[str, Callable[[Any], bytes]]:
    if library in ("auto", "orjson"):
        try:
            orjson = importlib.import_module("orjson")
        except ImportError:
            if library == "orjson":
                raise
        else:
            return "orjson", lambda body: orjson.dumps(body) + b"\n"
    return "stdlib", _stdlib_json


class App:
    """The ASGI app: each request crosses one ``_answer``."""

    def __init__(
        self,
        workspaces: Workspaces,
        router: Router,
        policy: KeyPolicy,
        encode: Callable[[Any], bytes],
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.workspaces = workspaces
        self.router = router
        self.policy = policy
        self.encode = encode
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        try:
            body, status, headers = await self._answer(scope, receive)
            content = self.encode(body)
        except Exception as error:
            refused = _refusal(error)
            body = problem_document(refused.status, refused.detail)
            status, headers = refused.status, {**refused.headers, "Content-Type": PROBLEM_JSON}
            content = json.dumps(body).encode()
        fields = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        fields.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": fields})
        await send({"type": "http.response.body", "body": content})

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        headers = dict(scope["headers"])
        workspace, path = self._workspace(scope["path"], headers)
        raw = await self._body(receive)
        method = scope["method"]
        operation, path_values = self.router.find(method, path, scope["path"])
        if operation.secured:
            self._authenticate(headers.get(b"authorization", b""))
        arguments = operation.arguments(path_values, scope["query_string"])
        if operation.body is not None:
            body = operation.body.parsed(raw, headers.get(b"content-type"))
            if body is not None:
                arguments["body"] = body
        # Where the handlers find their workspace, as behind WorkspaceRouting and
        # Connexion's ContextMiddleware. Each request runs in a task of its own, with its
        # own copy of the context.
        scope[SCOPE_KEY] = workspace
        scope[REGISTRY_KEY] = self.workspaces
        connexion_scope.set(scope)
        return await operation.handler(**arguments)

    def _workspace(self, path: str, headers: dict[bytes, bytes]) -> tuple[Workspace, str]:
        """The workspace named by the path prefix or the header (prospect_mock/routing.py),
        and the path without the prefix."""
        from_path = from_header = None
        if path.startswith(PREFIX):
            from_path = check_name(path[len(PREFIX) :].partition("/")[0])
            path = path[len(PREFIX) + len(from_path) :] or "/"
        named = headers.get(_WORKSPACE_HEADER)
        if named is not None:
            from_header = check_name(named.decode("latin-1"))
        if from_path and from_header and from_path != from_header:
            detail = (
                f"The path names the workspace {from_path!r} and {HEADER} names "
                f"{from_header!r}; name one."
            )
            raise WorkspaceError(400, detail)
        return self.workspaces.get(from_path or from_header or DEFAULT), path

    async def _body(self, receive: Receive) -> bytes:
        """The whole request body, at most ``max_body_bytes`` of it (413 beyond)."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise Refused(413, f"The request body is larger than {self.max_body_bytes} bytes.")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _authenticate(self, value: bytes) -> None:
        """The bearer check of prospect_mock/auth.py, with its sentences."""
        header = value.decode("latin-1").strip()
        if not header:
            raise _unauthorized(_NO_KEY)
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise _unauthorized('The Authorization header must be "Bearer" and a key.')
        if not self.policy.accepts(key):
            raise _unauthorized(
                f"The API key is not accepted; this mock accepts {self.policy.describe()}."
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """On a clean stop, fold each workspace's log into its database file, as the mock's
        lifespan does (prospect_mock/app.py)."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    self.workspaces.close()
                except StoreError as error:
                    _logger.error("Could not fold a write-ahead log: %s", error)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _unauthorized(detail: str) -> Refused:
    return Refused(401, detail, {"WWW-Authenticate": "Bearer"})


def create_app(
    db_path: str, *, api_keys: Sequence[str] = (), json_library: str = "auto"
) -> tuple[App, str]:
    """The app serving the database at ``db_path``, and the JSON library it answers with."""
    library, encode = _encoder(json_library)
    router = Router.of(load_spec())
    return App(Workspaces(db_path), router, KeyPolicy(api_keys), encode), library


def _exit_cleanly_after_shutdown() -> None:
    # uvicorn stops on SIGTERM, then raises it again for the previous handler: exit 0.
    def exit_zero(_signal: int, _frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, exit_zero)
    signal.signal(signal.SIGINT, exit_zero)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.without_connexion",
        description="Serve the mock's database without Connexion: the bench's prototype.",
    )
    parser.add_argument("--db", required=True, help="the mock's database file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--api-key", action="append", default=[], dest="api_keys")
    parser.add_argument(
        "--json",
        choices=("auto", "stdlib", "orjson"),
        default="auto",
        help="what encodes the answers: orjson if it is installed (auto), or the json module",
    )
    args = parser.parse_args(argv)
    app, library = create_app(args.db, api_keys=args.api_keys, json_library=args.json)
    sockets = http_server.listen(args.host, args.port)
    port = sockets[0].getsockname()[1]
    print(f"without-connexion serving {args.db} at http://{args.host}:{port} ({library})")
    sys.stdout.flush()
    _exit_cleanly_after_shutdown()
    gc.freeze()  # as the mock does once its records are loaded
    http_server.run(app, sockets)


if __name__ == "__main__":
    main()

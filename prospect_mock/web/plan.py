"""The request plan: everything the mock itself does to a request, in one layer around
Connexion, its steps in the order :meth:`RequestPlan.__call__` takes them:

1. CORS: a preflight is answered here; every other answer gets CORS headers, errors too.
2. The workspace is named (``/ws/NAME`` or ``X-Mock-Workspace``), its prefix taken off
   the path, and the request's state made (:class:`~.request_state.RequestState`).
3. A served contract (``/openapi.json``) is answered here.
4. A request to the Prospect API (``/api/…``) is recorded in the journal, with whatever
   it is answered from here on: delays and refusals included.
5. Its latency: ``Prefer: delay``, or the server's ``--latency-ms``.
6. The body is read whole, and refused over ``--max-body-bytes``.
7. Connexion routes the request and checks its key.
8. :func:`admit`, called by Connexion's validation before it validates: the request, its
   key accepted, enters its workspace (created now if it is new).
9. Connexion validates the request.
10. :func:`answer`, called where Connexion calls the handler: a scenario of the
    workspace, else a forced answer (``Prefer: code=``/``example=``), else the handler.

Steps 8 and 10 are the plan's, called from inside Connexion so that neither can skip its
security or its validation. A refusal at steps 2 to 6 is answered by
:func:`~.errors.send_refusal`, from the same table as Connexion's error handlers use.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from prospect_mock.contract.paths import api_index, match_operation
from prospect_mock.contract.responses import exact_responses, operations
from prospect_mock.domain.workspaces import BadWorkspaceName, Workspaces
from prospect_mock.web.body_limit import read_body_within, replay, sized
from prospect_mock.web.docs import served_contract
from prospect_mock.web.errors import BadPreference, BodyTooLarge, send_refusal
from prospect_mock.web.journal_recording import JournalRecording
from prospect_mock.web.preferences import delay_ms, forced_response, parse_prefer
from prospect_mock.web.request_state import API_PREFIX, STATE_KEY, RequestState
from prospect_mock.web.scenario_answers import SCENARIO_HEADER, matching_scenario, play
from prospect_mock.web.workspace_selection import requested_workspace

__all__ = ["RequestPlan", "admit", "answer"]

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestPlan:
    def __init__(
        self,
        app: ASGIApp,
        *,
        workspaces: Workspaces,
        cors_origins: Sequence[str],
        max_body_bytes: int,
        latency_ms: tuple[int, int],
    ) -> None:
        self.app = app
        self.workspaces = workspaces
        self.max_body_bytes = max_body_bytes
        self.latency_ms = latency_ms
        # Starlette's CORS rules, used as steps rather than as a layer of their own.
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["*"],
            expose_headers=["Preference-Applied", SCENARIO_HEADER],
        )
        # Compiled now, for every operation, rather than by its first request: the index
        # from method and path to operation, and each operation's documented answers.
        api_index()
        for operation in operations():
            exact_responses(operation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 1. CORS
        origin = _origin(scope)
        if origin is not None:
            if scope["method"] == "OPTIONS" and "access-control-request-method" in origin:
                await self._cors.preflight_response(request_headers=origin)(scope, receive, send)
                return
            send = functools.partial(self._cors.send, send=send, request_headers=origin)
        # 2. The workspace, and the request's state
        try:
            scope, state = self._arrive(scope)
        except BadWorkspaceName as error:
            await send_refusal(send, error)
            return
        # 3. The served contracts
        contract = served_contract(scope)
        if contract is not None:
            await contract(scope, receive, send)
            return
        # 4. The journal
        recording = JournalRecording(state, scope) if state.is_api else None
        if recording is not None:
            send = recording.sending(send)
        body = recording.body if recording is not None else bytearray()
        try:
            try:
                # 5. Latency
                delay = delay_ms(state.preferences, self.latency_ms) if state.is_api else 0
                if delay:
                    await asyncio.sleep(delay / 1000)
                # 6. The body
                await read_body_within(receive, self.max_body_bytes, body)
            except (BadPreference, BodyTooLarge) as error:
                await send_refusal(send, error)
                return
            # 7 to 10: Connexion, which calls admit() and answer() at their points
            await self.app(sized(scope, len(body)), replay(bytes(body), receive), send)
        finally:
            if recording is not None:
                recording.record()

    def _arrive(self, scope: Scope) -> tuple[Scope, RequestState]:
        """The request's scope with its state, and its workspace prefix as its root path."""
        name, prefix = requested_workspace(scope)
        path = scope["path"][len(prefix) :] or "/"
        is_api = path.startswith(API_PREFIX)
        found = match_operation(scope["method"], path) if is_api else None
        state = RequestState(
            workspaces=self.workspaces,
            workspace_name=name,
            on_arrival=self.workspaces.find(name),
            path=path,
            operation=found[0] if found else None,
            preferences=parse_prefer(scope) if is_api else {},
        )
        scope = {**scope, STATE_KEY: state}
        if prefix:
            scope["root_path"] = scope.get("root_path", "") + prefix
        return scope, state


def _origin(scope: Scope) -> Headers | None:
    """The request's headers if it names an origin (a browser's cross-origin request)."""
    for name, _ in scope["headers"]:
        if name == b"origin":
            return Headers(scope=scope)
    return None


def admit(scope: Scope) -> None:
    """Step 8: the request, its key accepted, enters its workspace."""
    RequestState.of(scope).admit()


async def answer(scope: Scope, receive: Receive, send: Send, handler: Handler) -> None:
    """Step 10: a scenario, a forced answer, or ``handler``'s real one."""
    state = RequestState.of(scope)
    operation, workspace = state.operation, state.admitted
    if operation is None or workspace is None:  # the admin API is not a mock
        await handler(scope, receive, send)
        return
    scenario = (
        matching_scenario(workspace.scenarios, operation, scope) if workspace.scenarios else None
    )
    if scenario is not None:
        state.annotate(scenario=scenario.id)
        await play(scenario, handler, scope, receive, send)
        return
    forced = forced_response(operation, state.preferences)
    if forced is not None:
        await forced(scope, receive, send)
        return
    await handler(scope, receive, send)

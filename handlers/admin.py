"""``/__admin``: test-setup controls for the request's workspace, described in
``admin.yaml``."""

from typing import Any

from connexion import context

from prospect_mock.domain import datasets, journal, seeding
from prospect_mock.web import endpoints, faults, request_state


def reset(empty: bool = False) -> endpoints.Response:
    workspace = request_state.current()
    (seeding.EMPTY if empty else request_state.registry().seed).fill(workspace.database)
    workspace.scenarios.clear()
    return datasets.counts(workspace.database), 200, endpoints.JSON


def export() -> endpoints.Response:
    return datasets.export(request_state.current().database), 200, endpoints.JSON


def load(body: dict[str, Any]) -> endpoints.Response:
    datasets.check_fits(body)
    database = request_state.current().database
    database.replace(body)
    return datasets.counts(database), 200, endpoints.JSON


# The filters come as keyword arguments, with whatever else Connexion passes (the user).
def list_requests(limit: int, **query: Any) -> endpoints.Response:
    matching = journal.RequestFilter.of(query)
    entries, total = request_state.current().journal.newest(limit, matching)
    return {"data": entries, "total": total}, 200, endpoints.JSON


def count_requests(**query: Any) -> endpoints.Response:
    count = request_state.current().journal.count(journal.RequestFilter.of(query))
    return {"count": count}, 200, endpoints.JSON


async def wait_for_requests(count: int, timeout_ms: int, **query: Any) -> endpoints.Response:
    matching = journal.RequestFilter.of(query)
    waiting = request_state.current().journal.wait(matching, count, timeout_ms / 1000)
    # A wait ends with its client, or the server's shutdown: the connection is then gone,
    # and nothing answered here is sent.
    found = await faults.unless_cut_off(waiting, context.scope, context.receive)
    return {"count": found}, 200, endpoints.JSON


def clear_requests() -> endpoints.Response:
    return {"deleted": request_state.current().journal.clear()}, 200, endpoints.JSON

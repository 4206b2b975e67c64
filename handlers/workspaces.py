"""``/__admin/workspaces``: the server's workspaces, described in ``admin.yaml``."""

from typing import Any

from prospect_mock.domain import datasets, seeding, workspaces
from prospect_mock.web import endpoints, request_state


def list() -> endpoints.Response:
    described = [workspace.to_json() for workspace in request_state.registry()]
    return {"data": described, "total": len(described)}, 200, endpoints.JSON


def put(name: str, body: dict[str, Any], empty: bool = False) -> endpoints.Response:
    # Connexion hands an empty dict for a body left out; one sent is a whole data set, and
    # is what the workspace holds then, empty or not.
    every = request_state.registry()
    if body:
        datasets.check_fits(body)
        data = seeding.Seed(lambda: body)
    else:
        data = seeding.EMPTY if empty else every.seed
    workspace, created = every.put(workspaces.check_name(name), data)
    return workspace.to_json(), 201 if created else 200, endpoints.JSON


def delete(name: str) -> endpoints.Response:
    request_state.registry().delete(name)
    return {"name": name, "deleted": True}, 200, endpoints.JSON

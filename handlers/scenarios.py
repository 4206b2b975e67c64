"""``/__admin/scenarios``: what the request's workspace answers next, described in
``admin.yaml``."""

from typing import Any

from prospect_mock import endpoints, scenarios, workspaces


def create(body: dict[str, Any]) -> endpoints.Response:
    scenario = scenarios.Scenario.from_definition(body)
    workspaces.current().scenarios.add(scenario)
    return scenario.describe(), 201, endpoints.JSON


def list() -> endpoints.Response:
    described = [scenario.describe() for scenario in workspaces.current().scenarios]
    return {"data": described, "total": len(described)}, 200, endpoints.JSON


def delete(id: str) -> endpoints.Response:
    workspaces.current().scenarios.remove(id)
    return {"id": id, "deleted": True}, 200, endpoints.JSON


def clear() -> endpoints.Response:
    return {"deleted": workspaces.current().scenarios.clear()}, 200, endpoints.JSON

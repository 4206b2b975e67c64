"""``/__admin/scenarios``: what the request's workspace answers next, described in
``admin.yaml``."""

from typing import Any

from prospect_mock.domain import scenarios
from prospect_mock.web import endpoints, request_state


def create(body: dict[str, Any]) -> endpoints.Response:
    scenario = scenarios.Scenario.from_definition(body)
    request_state.current().scenarios.add(scenario)
    return scenario.to_json(), 201, endpoints.JSON


def list() -> endpoints.Response:
    described = [scenario.to_json() for scenario in request_state.current().scenarios]
    return {"data": described, "total": len(described)}, 200, endpoints.JSON


def delete(id: str) -> endpoints.Response:
    request_state.current().scenarios.remove(id)
    return {"id": id, "deleted": True}, 200, endpoints.JSON


def clear() -> endpoints.Response:
    return {"deleted": request_state.current().scenarios.clear()}, 200, endpoints.JSON

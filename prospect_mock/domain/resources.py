"""The resources the mock serves, and how they relate: the one place to add a resource."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RESOURCE_TYPES", "ResourceType"]


@dataclass(frozen=True)
class ResourceType:
    name: str
    """Key of the resource: its table in the database and its fixture file."""
    noun: str
    """What one record is called in messages."""
    id_prefix: str
    """Ids are this prefix, ``_`` and a random suffix."""
    schema: str
    """The contract's schema for one record; it names every attribute."""
    parent: str | None = None
    """For a line item, the resource it belongs to."""
    parent_key: str | None = None
    """For a line item, the attribute that holds its parent's id."""


RESOURCE_TYPES = (
    ResourceType("prospects", "prospect", "prospect", "Prospect"),
    ResourceType(
        "prospect_leads", "lead", "prospect-lead", "ProspectLead", "prospects", "prospect_id"
    ),
    ResourceType(
        "prospect_opportunities",
        "opportunity",
        "prospect-opportunity",
        "ProspectOpportunity",
        "prospects",
        "prospect_id",
    ),
)

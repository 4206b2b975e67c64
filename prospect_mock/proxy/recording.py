"""Real records, seen in valid answers of list and retrieve operations, written as seed
data in the format of ``fixtures/``: one JSON file per resource, each a list of records
exactly as the API returns them, so that ``prospect-mock serve --fixtures DIR`` serves them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from prospect_mock.domain.resources import RESOURCE_TYPES

__all__ = ["FixtureRecorder"]

_RESOURCES = {kind.name for kind in RESOURCE_TYPES}


class FixtureRecorder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # By id, in the order first seen; a record seen again replaces its older version.
        self._records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in _RESOURCES}
        directory.mkdir(parents=True, exist_ok=True)
        self._write()

    def record(self, operation: str, body: Any) -> None:
        """Keep the records of a valid answer to ``operation`` if it lists or retrieves."""
        resource, _, verb = operation.partition(".")
        if resource not in _RESOURCES or verb not in ("list", "get"):
            return
        records = body["data"] if verb == "list" else [body]
        for record in records:
            self._records[resource][record["id"]] = record
        if records:
            self._write()

    def _write(self) -> None:
        for name, records in self._records.items():
            path = self.directory / f"{name}.json"
            temporary = path.with_suffix(".json.tmp")
            text = json.dumps(list(records.values()), indent=2, ensure_ascii=False)
            temporary.write_text(text + "\n", encoding="utf-8")
            os.replace(temporary, path)  # a reader never sees half a file

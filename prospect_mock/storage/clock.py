"""The one way the mock writes a moment: ISO 8601 in UTC with milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["timestamp"]


def timestamp(at: float | None = None) -> str:
    """``at`` (seconds since the epoch; default now) as ``2024-01-15T09:30:00.123Z``."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"

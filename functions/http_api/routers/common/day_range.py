"""The `from`/`to` days of a dashboard's range (campaign and tracking dashboards, App and Manager)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

FromDay = Annotated[str | None, Query(alias="from", description="First UTC day, YYYY-MM-DD (default: 30 days ago)")]
ToDay = Annotated[str | None, Query(alias="to", description="Last UTC day, YYYY-MM-DD (default: today)")]

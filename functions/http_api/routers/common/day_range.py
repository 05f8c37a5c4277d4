"""The `from`/`to` days of a range: a dashboard's (defaults: the last 30 days) and an order list's (no default)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

FromDay = Annotated[str | None, Query(alias="from", description="First UTC day, YYYY-MM-DD (default: 30 days ago)")]
ToDay = Annotated[str | None, Query(alias="to", description="Last UTC day, YYYY-MM-DD (default: today)")]
# Order lists (a member's in the App, the brand's in the Manager): both days optional and inclusive.
FirstDay = Annotated[str | None, Query(alias="from", description="First UTC day (YYYY-MM-DD), inclusive")]
LastDay = Annotated[str | None, Query(alias="to", description="Last UTC day (YYYY-MM-DD), inclusive")]

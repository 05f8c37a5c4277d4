"""The timer job marking waiting-list requests nobody handled in time as abandoned (NCRONTAB, UTC)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.conversations import requests
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _abandoned_requests(container: Platform, dry_run: bool) -> dict[str, Any]:
    brand_ids = brands.all_brand_ids(store=container.store)
    now, marked = container.clock.now(), 0
    for brand_id in brand_ids:
        minutes = brands.get(store=container.store, brand_id=brand_id).waiting_list_abandon_minutes
        store = container.store.for_brand(brand_id)
        if dry_run:
            marked += len(requests.overdue(store=store, now=now, abandon_minutes=minutes))
        else:
            marked += requests.sweep_abandoned(store=store, events=container.events, now=now, abandon_minutes=minutes)
    return {"brands": len(brand_ids), "abandoned": marked}


# Every minute: an abandoned request leaves the list (and reaches the counters) within a minute; the
# dashboards count the ones not marked yet on their own, so their figures are exact meanwhile.
JOBS = [TimerJob("conversation_abandonment", "0 * * * * *", _abandoned_requests)]

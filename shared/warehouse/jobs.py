"""The timer job of the data-warehouse export (NCRONTAB, UTC)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.scheduling import TimerJob
from shared.warehouse import export

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _warehouse_export(container: Platform, dry_run: bool) -> dict[str, Any]:
    brand_ids = brands.all_brand_ids(store=container.store)
    return export.export_all(store=container.store, blobs=container.blobs, now=container.clock.now(),
                             brand_ids=brand_ids, hasher=container.hasher, dry_run=dry_run)


JOBS = [
    # Off-peak, early in the UTC day: the snapshot is dated the day it is taken.
    TimerJob("warehouse_export", "0 30 1 * * *", _warehouse_export),
]

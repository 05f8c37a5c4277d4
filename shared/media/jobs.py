"""The hourly purge of conversation uploads no message claimed within a day (NCRONTAB, UTC)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.media import uploads
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)


def _purge_unclaimed_media(container: Platform, dry_run: bool) -> dict[str, Any]:
    """Every brand's unclaimed uploads past their day; a failing brand is reported and the others go on."""
    now = container.clock.now()
    report: dict[str, Any] = {"due": 0, "purged": 0, "failedBrands": []}
    for brand_id in brands.all_brand_ids(store=container.store):
        try:
            counts = uploads.purge_unclaimed(store=container.store.for_brand(brand_id), blobs=container.blobs,
                                             now=now, dry_run=dry_run)
        except Exception:
            log.exception("purging unclaimed conversation media of brand %s failed", brand_id)
            report["failedBrands"].append(brand_id)
            continue
        report["due"] += counts["due"]
        report["purged"] += counts["purged"]
    if dry_run:
        report["dryRun"] = True
    return report


JOBS = [TimerJob("purge_unclaimed_media", "0 20 * * * *", _purge_unclaimed_media)]

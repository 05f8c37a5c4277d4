"""Access-log retention: activity records are kept one year, then removed by a timer.

Data Protection Guide v4, "Data operational security": access logs are anonymous (hashed IP and
user agent, see shared.identity.activity), kept for one year. Records carry a Cosmos `ttl` too;
this sweep is what removes them on the embedded store, and the backstop on Cosmos DB (a record
written without `ttl`, or a container whose TTL was switched off, still goes).

The sweep reads only what is due: a range query on the indexed `at`, across the brand's partitions
("<brand>|<subject>"), so its cost follows the number of records past their year.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from shared.clock import isoformat
from shared.identity.activity import CONTAINER, KEEP
from shared.ports.store import BrandStore, DocumentNotFound, DocumentStore, Filter

log = logging.getLogger("popsell.gdpr.access_logs")

BATCH_SIZE = 500


def purge_brand(*, store: BrandStore, now: datetime, dry_run: bool = False,
                batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Delete one brand's activity records older than one year; counts of due and deleted records."""
    due_filter = [Filter("at", "<", isoformat(now - KEEP))]
    due = deleted = 0
    continuation = None
    while True:
        # Keyset continuation: deleting the records already read does not disturb the next page.
        page = store.query(CONTAINER, filters=due_filter, order_by="at", page_size=batch_size,
                           continuation=continuation)
        due += len(page.items)
        if not dry_run:
            for doc in page.items:
                try:
                    store.delete(CONTAINER, doc["id"], pk=doc["pk"])
                    deleted += 1
                except DocumentNotFound:
                    pass  # its ttl or a concurrent run removed it first
        continuation = page.continuation
        if continuation is None:
            return {"due": due, "deleted": deleted}


def purge_all(*, store: DocumentStore, now: datetime, brand_ids: list[str], dry_run: bool = False) -> dict[str, Any]:
    """Sweep every brand (a failure stays with its brand); a PII-free report of counts."""
    report: dict[str, Any] = {"dryRun": dry_run, "brands": len(brand_ids), "failed": 0, "due": 0, "deleted": 0}
    for brand_id in brand_ids:
        try:
            counts = purge_brand(store=store.for_brand(brand_id), now=now, dry_run=dry_run)
        except Exception as exc:
            report["failed"] += 1
            log.error("access-log purge of brand %s failed (%s)", brand_id, type(exc).__name__)
            continue
        report["due"] += counts["due"]
        report["deleted"] += counts["deleted"]
    log.info("access-log purge: %d brands, %d failed, %d due, %d deleted%s", report["brands"], report["failed"],
             report["due"], report["deleted"], " (dry run)" if dry_run else "")
    return report

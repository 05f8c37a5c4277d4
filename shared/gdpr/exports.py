"""Personal-data exports expire after 48 hours (Data Protection Guide v4: access rights)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from shared.clock import Clock
from shared.ports.blobs import CONTAINER_EXPORTS, BlobStore
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform

EXPORT_LIFETIME = timedelta(hours=48)
log = logging.getLogger("popsell.gdpr.exports")


def purge_expired_exports(*, blobs: BlobStore, clock: Clock, dry_run: bool = False) -> dict[str, int]:
    """Delete every export older than 48 hours; in production a lifecycle rule does it too (belt and braces)."""
    deadline = clock.now() - EXPORT_LIFETIME
    expired = [blob for blob in blobs.list(CONTAINER_EXPORTS) if blob.last_modified <= deadline]
    if not dry_run:
        for blob in expired:
            blobs.delete(CONTAINER_EXPORTS, blob.name)
    log.info("exports purge: %d expired%s", len(expired), " (dry run)" if dry_run else "")
    return {"expired": len(expired), "deleted": 0 if dry_run else len(expired)}


def _purge_job(container: Platform, dry_run: bool) -> dict[str, int]:
    return purge_expired_exports(blobs=container.blobs, clock=container.clock, dry_run=dry_run)


JOBS = [TimerJob("purge_expired_exports", "0 15 * * * *", _purge_job)]

"""Timer jobs of the access-log retention and of document expiry (NCRONTAB, UTC)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.gdpr import access_logs
from shared.scheduling import TimerJob
from shared.store_schema import PLATFORM_SCOPE

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _purge_access_logs(container: Platform, dry_run: bool) -> dict[str, Any]:
    # The platform scope too: operators' activity, if recorded, follows the same one-year rule.
    brand_ids = [*brands.all_brand_ids(store=container.store), PLATFORM_SCOPE]
    return access_logs.purge_all(store=container.store, now=container.clock.now(), brand_ids=brand_ids,
                                 dry_run=dry_run)


def _purge_expired_documents(container: Platform, dry_run: bool) -> dict[str, Any]:
    # Documents with a `ttl` (visit records, sessions, single-use links, throttles, nonces...) go when
    # it runs out: Cosmos DB does it by itself, the embedded default when this runs.
    if dry_run:
        return {"dryRun": True}
    return {"deleted": container.store.purge_expired()}


JOBS = [
    TimerJob("purge_access_logs", "0 45 3 * * *", _purge_access_logs),
    TimerJob("purge_expired_documents", "0 5 * * * *", _purge_expired_documents),
]

"""Timer jobs of the backups (NCRONTAB, UTC): the hourly snapshot, and the month's snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.backups import snapshots
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _taking(kind: snapshots.Kind) -> Callable[[Platform, bool], dict[str, Any]]:
    def run(container: Platform, dry_run: bool) -> dict[str, Any]:
        return snapshots.take(store=container.store, blobs=container.backup_blobs, kind=kind,
                              clock=container.clock, dry_run=dry_run)

    return run


JOBS = [
    TimerJob("backup_hourly", "0 0 * * * *", _taking(snapshots.HOURLY)),
    # Every hour, at half past: the month's first run takes its snapshot and the others find it taken,
    # so a failed run is made up within the hour, not a month later.
    TimerJob("backup_monthly", "0 30 * * * *", _taking(snapshots.MONTHLY)),
]

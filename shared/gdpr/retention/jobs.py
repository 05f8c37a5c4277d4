"""The retention timers: one per rule family, each running the retention runner for its family (UTC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.gdpr.retention import nightly
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _family(family: str) -> Callable[[Platform, bool], dict[str, Any]]:
    def run(container: Platform, dry_run: bool) -> dict[str, Any]:
        return nightly.run(container=container, family=family, dry_run=dry_run)

    return run


# Brands first (a brand-wide erasure makes the per-document work of that brand moot), then members
# and external users, at night.
JOBS = [
    TimerJob("retention_brands", "0 30 1 * * *", _family("brands")),
    TimerJob("retention_members", "0 0 2 * * *", _family("members")),
    TimerJob("retention_external_users", "0 30 2 * * *", _family("external_users")),
    TimerJob("retention_contacts", "0 0 3 * * *", _family("contacts")),
]

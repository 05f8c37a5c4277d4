"""The erasure journal's replay after a restore: each journalled change applied again, brand by brand.

It applies each entry since a date, oldest first, as of the entry's own time and through the
same functions that journalled it (shared.gdpr.journal lists them): documents come out as the
first time (to the second); replaying twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.clock import isoformat
from shared.crm import blacklist, contact_journal
from shared.events.model import Publisher
from shared.gdpr import erasure, restriction
from shared.gdpr.journal import COUNT_KEYS, COUNTS, Journal, Outcome
from shared.identity import manager_users
from shared.ports.blobs import BlobStore
from shared.ports.store import BrandStore, DocumentStore
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

# Applies one entry again: (journal, brand store, brand, entry, dry run) -> outcome.
Replayer = Callable[[Journal, BrandStore, Brand, dict[str, Any], bool], Outcome]


def _replayers(events: Publisher) -> dict[str, Replayer]:
    erase_again = partial(erasure.replay_entry, events=events)  # a member erased again: MemberErased again
    return {"member": erase_again, "visitor": erase_again,
            "contact": contact_journal.replay_erasure, "contact_opt_out": contact_journal.replay_opt_out,
            "blacklist": blacklist.replay_entry, "restriction": restriction.replay_entry,
            "manager_user": manager_users.replay_entry}


def _replay_brand(store: DocumentStore, journal: Journal, events: Publisher, since: datetime,
                  dry_run: bool) -> dict[str, int]:
    brand_store = store.for_brand(journal.brand_id)
    brand = brands.get(store=store, brand_id=journal.brand_id)
    replayers = _replayers(events)
    counts = dict.fromkeys(COUNTS, 0)
    for entry in journal.entries(since=since):
        counts["entries"] += 1
        subject_type = entry["subjectType"]
        outcome = replayers[subject_type](journal, brand_store, brand, entry, dry_run)
        counts[COUNT_KEYS[subject_type][outcome]] += 1
    return counts


def replay(*, store: DocumentStore, blobs: BlobStore, hasher_for: Callable[[str], BrandHasher], events: Publisher,
           since: datetime, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Apply again every change journalled since `since`, in every brand; counts per brand.

    A dry run counts what would be applied and writes nothing. A failure stays within its brand
    (reported as `failed`, the others go on); replaying twice changes nothing the second time.
    """
    report: dict[str, Any] = {}
    for brand_id in brands.all_brand_ids(store=store):
        try:
            report[brand_id] = _replay_brand(store, Journal(blobs, brand_id, hasher_for(brand_id)), events, since,
                                             dry_run)
        except Exception as exc:
            log.exception("erasure journal replay failed for brand %s", brand_id)
            report[brand_id] = {"failed": type(exc).__name__}
    log.info("erasure journal replayed since %s at %s%s: %s", isoformat(since), isoformat(now),
             " (dry run)" if dry_run else "", report)
    return report

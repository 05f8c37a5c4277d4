"""The erasure journal: every erasure, so a restored backup never brings back someone already erased.

Backups are kept 40 days (hourly) and a year (monthly): restoring one brings back documents as
they were, erased people included. Each erasure therefore appends to `erasure_journal`
`{id, at, subjectId, subjectHash, subjectType, rule}` and nothing else: no name, no email. After a
restore, `replay` erases again every subject journalled since a date, across every brand.

`subjectId` is the opaque random id of the document (uuid4 hex): it says nothing about the person,
and once the document is erased nothing in production links it to anyone, while the replay needs
it to find a restored document. `subjectHash` (keyed hash of the id) lets the GDPR register and
the requests refer to the subject without the id.

The entry id is derived from the subject, so erasing twice journals once (a create that meets
the existing entry is the idempotency primitive, race-free); a full erasure (names of people
under contract, at the end of the brand's contract) is a further step with its own entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal

from shared.brands.service import all_brand_ids
from shared.clock import isoformat
from shared.identity import repository
from shared.ports.blobs import BlobStore
from shared.ports.store import BrandStore, DocumentConflict, DocumentStore, Filter
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

CONTAINER = "erasure_journal"
SubjectType = Literal["member", "visitor"]
_SUBJECT_CONTAINERS: dict[str, str] = {"member": repository.MEMBERS, "visitor": repository.VISITORS}


def subject_hash(hasher: BrandHasher, subject_type: SubjectType, subject_id: str) -> str:
    """The keyed hash of a member's or external user's id (the GDPR register's `subjectHash` too)."""
    return hasher(subject_type, subject_id)


def entry_id(hashed: str, subject_type: SubjectType, *, full: bool = False) -> str:
    """The journal entry of one subject's erasure (one per subject, and one more for a full erasure)."""
    return f"{subject_type}-{hashed}" + ("-full" if full else "")


def record(store: BrandStore, *, hasher: BrandHasher, subject_type: SubjectType, subject_id: str, rule: str,
           now: datetime, full: bool = False) -> bool:
    """Journal an erasure; False when it was already journalled (the first entry stands)."""
    hashed = subject_hash(hasher, subject_type, subject_id)
    try:
        store.create(CONTAINER, {"id": entry_id(hashed, subject_type, full=full), "at": isoformat(now),
                                 "subjectId": subject_id, "subjectHash": hashed, "subjectType": subject_type,
                                 "rule": rule})
    except DocumentConflict:
        return False
    return True


def entries_since(store: BrandStore, *, since: datetime) -> Iterator[dict[str, Any]]:
    """This brand's journal entries at or after `since`, oldest first, a page at a time."""
    continuation = None
    while True:
        page = store.query(CONTAINER, filters=[Filter("at", ">=", isoformat(since))], order_by="at",
                           page_size=200, continuation=continuation)
        yield from page.items
        continuation = page.continuation
        if continuation is None:
            return


def _replay_brand(store: BrandStore, blobs: BlobStore, hasher: BrandHasher, since: datetime, now: datetime,
                  dry_run: bool) -> dict[str, int]:
    from shared.gdpr import erasure  # erasure writes to this journal: imported here, at use

    counts = {"entries": 0, "erasedAgain": 0, "alreadyErased": 0, "missing": 0}
    for entry in entries_since(store, since=since):
        counts["entries"] += 1
        subject_type, subject_id = entry["subjectType"], entry["subjectId"]
        doc = store.find(_SUBJECT_CONTAINERS[subject_type], subject_id)
        if doc is None:
            counts["missing"] += 1  # the backup predates the subject: nothing came back
            continue
        before = {key: value for key, value in doc.items() if not key.startswith("_")}
        if dry_run:
            # Without writing, a restored subject shows as not erased; an erased one is left as it is.
            counts["erasedAgain" if doc.get("status") != "erased" else "alreadyErased"] += 1
            continue
        if subject_type == "member":
            erasure.erase_member(store=store, blobs=blobs, hasher=hasher, member_id=subject_id, now=now,
                                 rule=entry["rule"])
        else:
            erasure.erase_visitor(store=store, hasher=hasher, visitor_id=subject_id, now=now, rule=entry["rule"])
        after = store.find(_SUBJECT_CONTAINERS[subject_type], subject_id) or {}
        changed = before != {key: value for key, value in after.items() if not key.startswith("_")}
        counts["erasedAgain" if changed else "alreadyErased"] += 1
    return counts


def replay(*, store: DocumentStore, blobs: BlobStore, hasher_for: Callable[[str], BrandHasher], since: datetime,
           now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Erase again every subject journalled since `since`, in every brand; counts per brand.

    A failure stays within its brand (reported as `failed`, the others go on); replaying twice
    changes nothing the second time.
    """
    report: dict[str, Any] = {}
    for brand_id in all_brand_ids(store=store):
        try:
            report[brand_id] = _replay_brand(store.for_brand(brand_id), blobs, hasher_for(brand_id), since, now,
                                             dry_run)
        except Exception as exc:
            log.exception("erasure journal replay failed for brand %s", brand_id)
            report[brand_id] = {"failed": type(exc).__name__}
    log.info("erasure journal replayed since %s%s: %s", isoformat(since), " (dry run)" if dry_run else "",
             report)
    return report

"""The erasure journal: what a restored backup must not bring back, kept where a restore cannot reach it.

Backups are kept 40 days (hourly) and a year (monthly): restoring one brings back documents as
they were, erased people and contacts included, and forgets later opt-outs and black-list entries.
Each of these changes is therefore journalled first, before its document is written:

- `member`, `visitor`: an erasure (shared.gdpr.erasure);
- `contact`: a contact's erasure, whatever its cause (shared.crm.contact_journal.erase_and_store);
- `contact_opt_out`: an opt-out of a contact, member side (declined, opted out from an email, no
  answer, global) or brand side (shared.crm.contact_journal.record_opt_outs);
- `blacklist`: an email hash added to the brand's black list for a reason (shared.crm.blacklist.add);
- `manager_user`: a Manager user's erasure, when all the brand's data goes
  (shared.identity.manager_users.erase);
- `restriction`: a restriction of processing set or lifted (shared.gdpr.restriction), so a restore
  neither forgets a restriction asked for after the backup nor keeps one lifted since.

Where (docs/decisions/0025-restore-proof-journal.md): one blob per entry in the `erasure-journal`
container, `<brand>/<day>/<entry id>.json`, never in the database. A restore of the database (a
Cosmos DB point-in-time restore, a copy of the SQLite file) leaves the journal as it is, so it
still holds what happened after the backup; in production the container is write-once
(infra/modules/storage.bicep), so neither the app nor an operator's mistake can rewrite it.

An entry is `{id, at, subjectId, subjectHash, subjectType, rule}` (an opt-out adds `effectiveAt`,
the date its consent value carries) and holds no personal data:
- a member's or visitor's `subjectId` is its random id (uuid4 hex); a contact's is `ct-` and a keyed
  hash of its member's id and email hash (shared.crm.service._contact_id), or random without an
  email: nothing outside the brand's key turns it back into an address, and once the contact is
  erased it names no one. A black-list entry's subject is the email's keyed hash the list stores.
  The replay needs these to find the restored documents; a hash of them could not be reversed.
- `subjectHash` (keyed hash of the id; the hash itself for the black list) lets the GDPR register
  and the requests refer to the subject without the id.
- `rule` is a short name (the erasure's rule, the opt-out's new value, the black-list reason),
  never a person's id.

The entry id is derived from the subject (an opt-out's also from its value and time, since a brand
opt-out can happen again after a new opt-in), so a second call journals nothing: the blob is
created only if none has its name, race-free. A change already made (an erased subject, a reason
already listed) journals nothing either, so entries on later days are not repeated.

shared.gdpr.journal_replay applies again, in every brand, each entry since a date, oldest first, as of the entry's
own time and through the same functions: documents come out as the first time (to the second);
replaying twice changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.clock import isoformat
from shared.ports.blobs import CONTAINER_JOURNAL, BlobNotFound, BlobStore
from shared.privacy.hashing import BrandHasher

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

CONTAINER = CONTAINER_JOURNAL
SubjectType = Literal["member", "visitor", "manager_user", "contact", "contact_opt_out", "blacklist",
                      "restriction"]
# What a replay did with one entry: applied again, found already applied, or found no document.
Outcome = Literal["again", "already", "missing"]
# The per-brand counts of a replay, by subject type and outcome.
COUNT_KEYS: dict[str, dict[Outcome, str]] = {
    "member": {"again": "erasedAgain", "already": "alreadyErased", "missing": "missing"},
    "visitor": {"again": "erasedAgain", "already": "alreadyErased", "missing": "missing"},
    "manager_user": {"again": "erasedAgain", "already": "alreadyErased", "missing": "missing"},
    "contact": {"again": "erasedAgain", "already": "alreadyErased", "missing": "missing"},
    "contact_opt_out": {"again": "optedOutAgain", "already": "alreadyOptedOut", "missing": "missing"},
    "blacklist": {"again": "blacklistedAgain", "already": "alreadyBlacklisted", "missing": "missing"},
    "restriction": {"again": "restrictionAgain", "already": "restrictionAlready", "missing": "missing"},
}
COUNTS = ("entries", "erasedAgain", "alreadyErased", "missing", "optedOutAgain", "alreadyOptedOut",
          "blacklistedAgain", "alreadyBlacklisted", "restrictionAgain", "restrictionAlready")
# An opt-out is a change of its contact: it is referred to by the contact's hash.
_HASH_KINDS = {"contact_opt_out": "contact"}


def subject_hash(hasher: BrandHasher, subject_type: SubjectType, subject_id: str) -> str:
    """The keyed hash of a subject's id (the GDPR register's `subjectHash` too)."""
    return hasher(_HASH_KINDS.get(subject_type, subject_type), subject_id)  # type: ignore[arg-type]


def entry_id(hashed: str, subject_type: SubjectType, qualifier: str | None = None) -> str:
    """One subject's entry (`qualifier`: a further step, a reason, an opt-out's value and time)."""
    return "-".join([subject_type, hashed, *([qualifier] if qualifier else [])])


def _blob_name(brand_id: str, at: str, entry: str) -> str:
    # The day in the name lets a replay read only the entries since its date.
    return f"{brand_id}/{at[:10]}/{entry}.json"


@dataclass(frozen=True)
class Journal:
    """One brand's journal: the append-only blob container, and the brand's key for subject hashes."""

    blobs: BlobStore
    brand_id: str
    hasher: BrandHasher

    def record(self, *, subject_type: SubjectType, subject_id: str, rule: str, now: datetime,
               qualifier: str | None = None, hashed: str | None = None,
               effective_at: datetime | None = None) -> bool:
        """Journal a change; False when it was already journalled (the first entry stands)."""
        hashed = hashed or subject_hash(self.hasher, subject_type, subject_id)
        at = isoformat(now)
        entry: dict[str, Any] = {"id": entry_id(hashed, subject_type, qualifier), "at": at, "subjectId": subject_id,
                                 "subjectHash": hashed, "subjectType": subject_type, "rule": rule}
        if effective_at is not None:
            entry["effectiveAt"] = isoformat(effective_at)
        return self.blobs.create(CONTAINER, _blob_name(self.brand_id, at, entry["id"]),
                                 json.dumps(entry, sort_keys=True).encode(), content_type="application/json")

    def entries(self, *, since: datetime) -> list[dict[str, Any]]:
        """This brand's entries at or after `since`, oldest first."""
        return entries_since(blobs=self.blobs, brand_id=self.brand_id, since=since)


def entries_since(*, blobs: BlobStore, brand_id: str, since: datetime) -> list[dict[str, Any]]:
    """A brand's journal entries at or after `since`, oldest first (only the days since are read)."""
    start = isoformat(since)
    found = []
    for info in blobs.list(CONTAINER, prefix=f"{brand_id}/"):
        parts = info.name.split("/")
        if len(parts) != 3 or parts[1] < start[:10]:
            continue
        with contextlib.suppress(BlobNotFound):  # expired by the lifecycle rule meanwhile
            entry = json.loads(blobs.get(CONTAINER, info.name))
            if entry["at"] >= start:
                found.append(entry)
    return sorted(found, key=lambda entry: (entry["at"], entry["id"]))

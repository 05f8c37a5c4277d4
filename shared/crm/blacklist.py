"""The brand's contacts black list: global opt-outs and definitive provider errors, as keyed hashes only.

"This enables to block future Members that would import again a contact who opted-out" (guide,
"Contacts black list"). One document per email hash (its id), listing why it is blocked.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from shared.clock import parse_instant
from shared.ports.store import BrandStore

if TYPE_CHECKING:
    from shared.brands.models import Brand
    from shared.gdpr.journal import Journal, Outcome

BLACKLIST = "blacklist"


class BlacklistReason(StrEnum):
    GLOBAL_OPT_OUT = "global_opt_out"
    SPAM = "spam"
    HARD_BOUNCE = "hard_bounce"
    BLOCKED = "blocked"


def _doc_id(email_hash: str) -> str:
    return f"email:{email_hash}"


def add(*, store: BrandStore, email_hash: str, reason: BlacklistReason, now: datetime, journal: Journal) -> None:
    """Blacklist an email hash for `reason`, journalled first (a reason already there changes nothing)."""
    existing = store.find(BLACKLIST, _doc_id(email_hash))
    reasons = sorted(set((existing or {}).get("reasons", [])) | {reason.value})
    if existing is not None and existing.get("reasons") == reasons:
        return
    # A restore of the database must not forget an opt-out: the journal keeps the hash (shared.gdpr.journal).
    journal.record(subject_type="blacklist", subject_id=email_hash, hashed=email_hash, rule=reason.value, now=now,
                   qualifier=reason.value)
    store.upsert(BLACKLIST, {
        "id": _doc_id(email_hash), "emailHash": email_hash, "reasons": reasons,
        "firstAt": (existing or {}).get("firstAt", now.isoformat()), "lastAt": now.isoformat(),
    })


def is_blocked(*, store: BrandStore, email_hash: str | None) -> bool:
    """Whether this email hash is on the brand's black list (no hash: nothing to block)."""
    return bool(email_hash) and store.find(BLACKLIST, _doc_id(email_hash)) is not None


def reasons(*, store: BrandStore, email_hash: str) -> list[str]:
    """Why a hash is blacklisted (empty when it is not)."""
    doc = store.find(BLACKLIST, _doc_id(email_hash))
    return list(doc.get("reasons", [])) if doc else []


def replay_entry(journal: Journal, store: BrandStore, brand: Brand, entry: dict, dry_run: bool) -> Outcome:
    """Add again a hash the journal says was blacklisted for a reason, as of the entry's time (journal replay)."""
    if entry["rule"] in reasons(store=store, email_hash=entry["subjectId"]):
        return "already"
    if not dry_run:
        add(store=store, email_hash=entry["subjectId"], reason=BlacklistReason(entry["rule"]),
            now=parse_instant(entry["at"]), journal=journal)
    return "again"

"""The brand's contacts black list: global opt-outs and definitive provider errors, as keyed hashes only.

"This enables to block future Members that would import again a contact who opted-out" (guide,
"Contacts black list"). One document per email hash (its id), listing why it is blocked.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.ports.store import BrandStore

BLACKLIST = "blacklist"


class BlacklistReason(StrEnum):
    GLOBAL_OPT_OUT = "global_opt_out"
    SPAM = "spam"
    HARD_BOUNCE = "hard_bounce"
    BLOCKED = "blocked"


def _doc_id(email_hash: str) -> str:
    return f"email:{email_hash}"


def add(store: BrandStore, email_hash: str, reason: BlacklistReason, now: datetime) -> None:
    """Blacklist an email hash for `reason` (adding a reason already there changes nothing)."""
    existing = store.find(BLACKLIST, _doc_id(email_hash))
    reasons = sorted(set((existing or {}).get("reasons", [])) | {reason.value})
    if existing is not None and existing.get("reasons") == reasons:
        return
    store.upsert(BLACKLIST, {
        "id": _doc_id(email_hash), "emailHash": email_hash, "reasons": reasons,
        "firstAt": (existing or {}).get("firstAt", now.isoformat()), "lastAt": now.isoformat(),
    })


def is_blocked(store: BrandStore, email_hash: str | None) -> bool:
    """Whether this email hash is on the brand's black list (no hash: nothing to block)."""
    return bool(email_hash) and store.find(BLACKLIST, _doc_id(email_hash)) is not None


def reasons(store: BrandStore, email_hash: str) -> list[str]:
    """Why a hash is blacklisted (empty when it is not)."""
    doc = store.find(BLACKLIST, _doc_id(email_hash))
    return list(doc.get("reasons", [])) if doc else []

"""The registration whitelist: keyed hashes of the emails and customer IDs allowed to sign up.

Only hashes are stored (`{id: "<kind>:<hash>", kind, role?}`), so the list can be compared with
but not read back. An entry may carry a role (1-6): who signs up through it gets that role.
"""

from __future__ import annotations

from typing import Literal

from shared.errors import InvalidInput
from shared.identity.models import Role
from shared.ports.store import BrandStore, DocumentNotFound, Filter
from shared.privacy.hashing import BrandHasher

CONTAINER = "whitelist"
WhitelistKind = Literal["email", "customer_id"]
KINDS: tuple[WhitelistKind, ...] = ("email", "customer_id")


def entry_id(kind: WhitelistKind, hashed: str) -> str:
    """The id of one whitelist entry."""
    return f"{kind}:{hashed}"


def _check_role(role: int | None) -> int | None:
    if role is None:
        return None
    if not Role.EMPLOYEE <= role <= Role.EXPERT:
        raise InvalidInput("A whitelist role must be a member role under contract (1-6)",
                           errors=[{"field": "role", "message": "must be between 1 and 6"}])
    return int(role)


def add(
    *, store: BrandStore, hasher: BrandHasher, emails: list[str], customer_ids: list[str], role: int | None = None
) -> int:
    """Allow these emails and customer IDs to sign up (idempotent); returns how many entries were written."""
    role = _check_role(role)
    written = 0
    for kind, values in (("email", emails), ("customer_id", customer_ids)):
        for value in values:
            doc = {"id": entry_id(kind, hasher(kind, value)), "kind": kind}
            if role is not None:
                doc["role"] = role
            store.upsert(CONTAINER, doc)
            written += 1
    return written


def remove(*, store: BrandStore, hasher: BrandHasher, emails: list[str], customer_ids: list[str]) -> int:
    """Take these emails and customer IDs off the list; returns how many entries existed."""
    removed = 0
    for kind, values in (("email", emails), ("customer_id", customer_ids)):
        for value in values:
            try:
                store.delete(CONTAINER, entry_id(kind, hasher(kind, value)))
                removed += 1
            except DocumentNotFound:
                pass
    return removed


def count(*, store: BrandStore) -> dict[str, int]:
    """How many entries of each kind (paged: the store has no COUNT across pages)."""
    totals: dict[str, int] = {}
    for kind in KINDS:
        total, continuation = 0, None
        while True:
            page = store.query(CONTAINER, filters=[Filter("kind", "=", kind)], page_size=500,
                               continuation=continuation)
            total += len(page.items)
            continuation = page.continuation
            if continuation is None:
                break
        totals[kind] = total
    return totals


def match(*, store: BrandStore, email_hash: str | None, customer_id_hash: str | None) -> dict | None:
    """The entry allowing this email or customer ID hash, if any (the email's entry first)."""
    for kind, hashed in (("email", email_hash), ("customer_id", customer_id_hash)):
        if hashed:
            doc = store.find(CONTAINER, entry_id(kind, hashed))
            if doc is not None:
                return doc
    return None

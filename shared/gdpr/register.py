"""The GDPR register: who did what, when, to whose data and why; never the data itself.

Data Protection Guide v4: requests to exercise articles 15 to 22 and every export of personal
data are recorded in the GDPR register. An entry names the person only by the keyed hash of
their id (`subject_hash`; a contact, who may be the contact of several members, by the keyed hash
of their email address, the same hash the contacts and the black list keep), the actor by role
(a data subject acting themselves is hashed too; Manager users and operators are staff, named by
their user id for accountability), the action
and reason as short codes. No email, no name, no free text: a register entry can be read by an
auditor without disclosing anything about the person, and it outlives the person's erasure.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from shared.clock import isoformat
from shared.ports.store import BrandStore, DocumentConflict, Filter, Page
from shared.privacy.hashing import BrandHasher

CONTAINER = "gdpr_register"

SubjectKind = Literal["member", "visitor", "contact"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("member", "visitor", "contact")

# A code, never prose: a free-text reason could carry a name or an address into the register.
_CODE = re.compile(r"^[A-Za-z0-9_.,:\-]{1,120}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_STAFF_ACTOR = re.compile(r"^(manager|operator|integration):[A-Za-z0-9_.\-]{1,120}$")


def subject_hash(hasher: BrandHasher, kind: SubjectKind, subject_id: str) -> str:
    """The register's name for a person: the keyed hash of a member's or visitor's id, by kind.

    A contact's id here is already the keyed hash of their email address: it is their name as is.
    """
    if kind == "contact":
        if not _HASH.match(subject_id or ""):
            raise ValueError("a contact is named by the keyed hash of their email address")
        return subject_id
    if kind not in SUBJECT_KINDS:
        raise ValueError(f"unknown data-subject kind {kind!r}")
    # "member" is not one of the hasher's declared identifier kinds; it only prefixes the message,
    # which keeps a member's hash apart from a visitor's with the same id.
    return hasher(kind, subject_id)  # type: ignore[arg-type]


def _actor(actor: str, hasher: BrandHasher | None) -> str:
    """The actor as stored: "system", a staff user by id, or a data subject by keyed hash."""
    if actor == "system" or _STAFF_ACTOR.match(actor):
        return actor
    kind, _, ident = actor.partition(":")
    if kind in SUBJECT_KINDS and ident:
        if _HASH.match(ident):
            return actor
        if hasher is None:
            raise ValueError("a member or visitor actor is stored by keyed hash: pass hasher=")
        return f"{kind}:{subject_hash(hasher, kind, ident)}"  # type: ignore[arg-type]
    raise ValueError("actor must be 'system', 'manager:<id>', 'operator:<id>', 'member:<id>', 'visitor:<id>' "
                     "or 'contact:<email hash>'")


def _code(name: str, value: str | None) -> str | None:
    if value is not None and not _CODE.match(value):
        raise ValueError(f"register {name} must be a short code (letters, digits, _ . , : -), not free text")
    return value


def record(
    *, store: BrandStore, actor: str,
    action: str,
    subject_hash: str,
    reason: str | None,
    now: datetime,
    request_id: str | None = None,
    hasher: BrandHasher | None = None,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """Write one register entry; `entry_id` makes a retried write land once (the existing entry is returned).

    `actor`: "system" | "manager:<user id>" | "operator:<user id>" | "member:<id>" | "visitor:<id>" |
    "contact:<email hash>" (a member's or visitor's id is stored as its keyed hash: pass `hasher`, or the
    hash itself).
    `action` and `reason` are short codes (e.g. "export_created", "gdpr_art15").
    """
    if not _HASH.match(subject_hash or ""):
        raise ValueError("subject_hash must be a keyed hash (64 hex characters), never a clear id")
    doc = {
        "id": entry_id or uuid.uuid4().hex,
        "actor": _actor(actor, hasher),
        "action": _code("action", action),
        "subjectHash": subject_hash,
        "reason": _code("reason", reason),
        "requestId": request_id,
        "createdAt": isoformat(now),
    }
    try:
        return store.create(CONTAINER, doc)
    except DocumentConflict:
        return store.get(CONTAINER, doc["id"])


def list_entries(
    *, store: BrandStore, subject_hash: str | None = None,
    page_size: int = 50,
    continuation: str | None = None,
) -> Page:
    """Register entries of the brand, newest first, optionally for one subject."""
    filters = [Filter("subjectHash", "=", subject_hash)] if subject_hash else []
    return store.query(CONTAINER, filters=filters, order_by="createdAt", descending=True, page_size=page_size,
                       continuation=continuation)

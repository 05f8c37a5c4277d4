"""Single-use links sent by email: email verification, password reset (and Manager invitations).

The link carries a random token (256 bits); only its SHA-256 is stored, in the `action_tokens`
container, with its purpose, subject and expiry (also as ttl). A stolen database therefore holds
no usable link. Consuming marks the document used (with its etag, so two clicks racing consume it
once); a used or expired link answers 410, an unknown one 422.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.errors import DomainError, InvalidInput
from shared.ports.store import BrandStore, DocumentNotFound, EtagMismatch, PatchOp

CONTAINER = "action_tokens"
# Used documents stay a while after expiry so a reused link is told apart from a forged one.
_KEEP_AFTER_EXPIRY = timedelta(days=7)


class LinkGone(DomainError):
    """The link was already used or has expired."""

    code = "link-expired"
    status = 410
    title = "This link no longer works"


@dataclass(frozen=True)
class ActionToken:
    """A consumed link: what it was for, whom it was for, and any data it carried."""

    purpose: str
    subject: str
    data: dict[str, Any]


def token_hash(token: str) -> str:
    """The stored form of a token (plain SHA-256: the token itself is random, not guessable)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits), for a caller that must build its link before storing it."""
    return secrets.token_urlsafe(32)


def create(
    *, store: BrandStore, purpose: str,
    subject: str,
    now: datetime,
    ttl: timedelta,
    data: dict[str, Any] | None = None,
    token: str | None = None,
) -> str:
    """Store a single-use token for `purpose` and `subject` (a new one unless given); returns the raw token."""
    token = token or new_token()
    store.create(
        CONTAINER,
        {
            "id": token_hash(token),
            "purpose": purpose,
            "subject": subject,
            "createdAt": isoformat(now),
            "expiresAt": isoformat(now + ttl),
            "usedAt": None,
            "data": data or {},
            "ttl": int((ttl + _KEEP_AFTER_EXPIRY).total_seconds()),
        },
    )
    return token


def peek(*, store: BrandStore, purpose: str, token: str, now: datetime) -> ActionToken:
    """Check a token is valid for `purpose` without using it up."""
    doc = _valid(store, purpose, token, now)
    return ActionToken(purpose=purpose, subject=doc["subject"], data=doc.get("data") or {})


def consume(*, store: BrandStore, purpose: str, token: str, now: datetime) -> ActionToken:
    """Use a token once: LinkGone when used or expired, InvalidInput (field `token`) when unknown."""
    doc = _valid(store, purpose, token, now)
    try:
        store.patch(CONTAINER, doc["id"], [PatchOp("set", "usedAt", isoformat(now))], etag=doc["_etag"])
    except EtagMismatch as exc:
        raise LinkGone("This link was already used") from exc
    return ActionToken(purpose=purpose, subject=doc["subject"], data=doc.get("data") or {})


def discard(*, store: BrandStore, token: str) -> None:
    """Remove a stored token whose email never left (the write it belonged to was undone)."""
    with contextlib.suppress(DocumentNotFound):
        store.delete(CONTAINER, token_hash(token))


def _valid(store: BrandStore, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    doc = store.find(CONTAINER, token_hash(token)) if token else None
    if doc is None or doc.get("purpose") != purpose:
        raise InvalidInput("This link is not valid", errors=[{"field": "token", "message": "unknown or malformed"}])
    if doc.get("usedAt"):
        raise LinkGone("This link was already used")
    if parse_instant(doc["expiresAt"]) <= now:
        raise LinkGone("This link has expired")
    return doc

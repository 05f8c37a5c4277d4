"""Sessions for every surface (App, widget, Manager): short access tokens and rotating refresh tokens.

A login opens a *family*: a short-lived access token (JWT, 15 minutes) and an opaque refresh
token (random, 256 bits) stored only as its SHA-256 in `auth_sessions`, valid 30 days from its
issue. Each refresh uses the refresh token up and hands out a new pair in the same family. A
refresh token presented a second time means it was copied: the whole family is revoked (theft
detection), so the thief and the victim both have to log in again. Logout revokes the family.

Access tokens are not checked against the families: they carry the family id (`fam`) and stay
valid until they expire, at most 15 minutes after a logout. What ends *every* session of a member
at once (a password reset) is the session epoch instead: App access tokens carry it (`sep`) and
`member_sessions.calling_member` refuses a token of an earlier epoch on the read it already makes
of the member (see docs/decisions/0019-session-epoch.md).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.errors import Unauthorized
from shared.identity.tokens import SESSION_EPOCH_CLAIM, Audience, TokenService
from shared.ports.store import BrandStore, DocumentNotFound, EtagMismatch, Filter, PatchOp

log = logging.getLogger(__name__)

CONTAINER = "auth_sessions"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
_FAMILY_PREFIX = "family:"


@dataclass(frozen=True)
class TokenPair:
    """What a login or a refresh hands out."""

    access_token: str
    refresh_token: str
    family_id: str
    subject: str
    expires_in: int = int(ACCESS_TTL.total_seconds())
    refresh_expires_in: int = int(REFRESH_TTL.total_seconds())
    token_type: str = "Bearer"  # noqa: S105 - the token scheme, not a secret


@dataclass(frozen=True)
class Grant:
    """The claims an access token carries besides the subject: re-read from the account on each refresh."""

    role: int | None = None
    level: str | None = None
    session_epoch: int | None = None  # App sessions: the member's epoch, carried as the `sep` claim


def _hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _ttl_seconds() -> int:
    return int((REFRESH_TTL + timedelta(days=1)).total_seconds())


def _new_pair(
    store: BrandStore,
    tokens: TokenService,
    *,
    family_id: str,
    subject: str,
    audience: Audience,
    brand_id: str | None,
    grant: Grant,
    now: datetime,
) -> TokenPair:
    refresh_token = secrets.token_urlsafe(32)
    store.create(
        CONTAINER,
        {
            "id": _hash(refresh_token),
            "familyId": family_id,
            "subject": subject,
            "audience": audience,
            "issuedAt": isoformat(now),
            "expiresAt": isoformat(now + REFRESH_TTL),
            "usedAt": None,
            "ttl": _ttl_seconds(),
        },
    )
    extra: dict[str, Any] = {"fam": family_id}
    if grant.session_epoch is not None:
        extra[SESSION_EPOCH_CLAIM] = grant.session_epoch
    access_token = tokens.issue(
        subject=subject, audience=audience, brand_id=brand_id, now=now, ttl=ACCESS_TTL,
        role=grant.role, level=grant.level, extra=extra,
    )
    return TokenPair(access_token=access_token, refresh_token=refresh_token, family_id=family_id, subject=subject)


def issue_session(
    *, store: BrandStore, tokens: TokenService, subject: str,
    audience: Audience,
    brand_id: str | None,
    now: datetime,
    role: int | None = None,
    level: str | None = None,
    session_epoch: int | None = None,
) -> TokenPair:
    """Open a session after a successful login: a new family, an access token and a refresh token."""
    family_id = uuid.uuid4().hex
    store.create(
        CONTAINER,
        {
            "id": _FAMILY_PREFIX + family_id,
            "familyId": family_id,
            "subject": subject,
            "audience": audience,
            "createdAt": isoformat(now),
            "revokedAt": None,
            "ttl": _ttl_seconds(),
        },
    )
    return _new_pair(store, tokens, family_id=family_id, subject=subject, audience=audience, brand_id=brand_id,
                     grant=Grant(role=role, level=level, session_epoch=session_epoch), now=now)


def refresh_session(
    *, store: BrandStore, tokens: TokenService, refresh_token: str,
    audience: Audience,
    brand_id: str | None,
    now: datetime,
    authorize: Callable[[str], Grant],
) -> TokenPair:
    """Rotate a refresh token: a new pair, the old token used up; a reused token revokes its family.

    `authorize(subject)` re-reads the account: it raises Unauthorized when the subject lost its
    access (blocked, unsubscribed, ...) and returns the role or level the new access token carries.
    """
    doc = store.find(CONTAINER, _hash(refresh_token)) if refresh_token else None
    if doc is None or doc.get("audience") != audience or "familyId" not in doc or doc["id"].startswith(_FAMILY_PREFIX):
        raise Unauthorized("Invalid refresh token")
    family = store.find(CONTAINER, _FAMILY_PREFIX + doc["familyId"])
    if family is None or family.get("revokedAt"):
        raise Unauthorized("This session has ended")
    if doc.get("usedAt"):
        revoke_family(store=store, family_id=doc["familyId"], now=now, reason="reuse")
        raise Unauthorized("This session has ended")
    if parse_instant(doc["expiresAt"]) <= now:
        raise Unauthorized("This session has expired")
    grant = authorize(doc["subject"])
    try:
        store.patch(CONTAINER, doc["id"], [PatchOp("set", "usedAt", isoformat(now))], etag=doc["_etag"])
    except EtagMismatch as exc:
        # Two refreshes with one token raced: the loser is a reuse like any other.
        revoke_family(store=store, family_id=doc["familyId"], now=now, reason="reuse")
        raise Unauthorized("This session has ended") from exc
    return _new_pair(store, tokens, family_id=doc["familyId"], subject=doc["subject"], audience=audience,
                     brand_id=brand_id, grant=grant, now=now)


def revoke_family(*, store: BrandStore, family_id: str, now: datetime, reason: str = "logout") -> None:
    """End one session family: none of its refresh tokens works any more."""
    try:
        store.patch(CONTAINER, _FAMILY_PREFIX + family_id, [PatchOp("set", "revokedAt", isoformat(now)),
                                                             PatchOp("set", "revokedReason", reason)])
    except DocumentNotFound:
        return
    log.info("session family %s revoked (%s)", family_id, reason)


def family_of(*, store: BrandStore, refresh_token: str) -> str | None:
    """The family a refresh token belongs to (logout by refresh token), or None."""
    doc = store.find(CONTAINER, _hash(refresh_token)) if refresh_token else None
    return doc.get("familyId") if doc else None


def revoke_subject(*, store: BrandStore, subject: str, now: datetime, reason: str = "password-reset") -> int:
    """End every session of one subject (password reset, account closed); returns how many families."""
    families: dict[str, Any] = {}
    for doc in store.query_all(CONTAINER, filters=[Filter("subject", "=", subject)], page_size=200):
        if doc["id"].startswith(_FAMILY_PREFIX) and not doc.get("revokedAt"):
            families[doc["familyId"]] = doc
    for family_id in families:
        revoke_family(store=store, family_id=family_id, now=now, reason=reason)
    return len(families)


def is_family_revoked(*, store: BrandStore, family_id: str) -> bool:
    """For surfaces that want to refuse access tokens of a revoked family at once (one read)."""
    family = store.find(CONTAINER, _FAMILY_PREFIX + family_id)
    return family is None or bool(family.get("revokedAt"))

"""Access tokens (JWT, HS256) with an audience per surface and a key id so keys rotate.

The first key of `POPSELL_TOKEN_SIGNING_KEYS` signs; every listed key verifies, so a new key is
added in front, and the old one removed once the tokens it signed have expired.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from shared.errors import Unauthorized

# "contact": a contact's short rights session (shared.gdpr.contact_rights), subject = their email hash.
# "in_store": the code of a member's QR, which a visitor met in a store scans (shared/conversations).
Audience = Literal["app", "widget", "manager", "contact", "in_store"]
ManagerLevel = Literal["viewer", "editor", "admin", "operator"]
MANAGER_LEVELS: tuple[ManagerLevel, ...] = ("viewer", "editor", "admin", "operator")
SESSION_EPOCH_CLAIM = "sep"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject, the brand they belong to (None for platform operators) and a level."""

    subject: str
    audience: Audience
    brand_id: str | None
    level: str | None = None
    token_id: str | None = None
    role: int | None = None  # members (0-6) and external users (7-8)
    session_epoch: int = 0  # App tokens: the member's session epoch at issue (no claim: 0)

    @property
    def is_operator(self) -> bool:
        return self.audience == "manager" and self.level == "operator"

    def has_level(self, minimum: ManagerLevel) -> bool:
        """True when this Manager principal's level is at least `minimum` (operator above admin)."""
        if self.audience != "manager" or self.level not in MANAGER_LEVELS:
            return False
        return MANAGER_LEVELS.index(self.level) >= MANAGER_LEVELS.index(minimum)


class TokenService:
    """Issues and verifies access tokens."""

    def __init__(self, keys: list[tuple[str, str]], *, issuer: str) -> None:
        if not keys:
            raise ValueError("at least one token signing key (kid:secret) is required")
        self._keys = dict(keys)
        self._signing_kid = keys[0][0]
        self._issuer = issuer

    def issue(
        self,
        *,
        subject: str,
        audience: Audience,
        brand_id: str | None,
        now: datetime,
        ttl: timedelta,
        level: str | None = None,
        role: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed token for one surface, expiring after `ttl`."""
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "brand": brand_id,
        }
        if level is not None:
            claims["lvl"] = level
        if role is not None:
            claims["role"] = int(role)
        claims.update(extra or {})
        return jwt.encode(claims, self._keys[self._signing_kid], algorithm="HS256", headers={"kid": self._signing_kid})

    def verify(self, token: str, *, audience: Audience, now: datetime) -> Principal:
        """The principal of a valid token for this audience; Unauthorized otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid or "")
            if key is None:
                raise Unauthorized("Unknown token key")
            # Time is checked against the injected clock, not the system clock.
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=audience,
                issuer=self._issuer,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["exp", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        timestamp = now.timestamp()
        if claims["exp"] <= timestamp or claims.get("nbf", 0) > timestamp + 30:
            raise Unauthorized("Token expired")
        return Principal(
            subject=claims["sub"],
            audience=audience,
            brand_id=claims.get("brand"),
            level=claims.get("lvl"),
            token_id=claims.get("jti"),
            role=claims.get("role"),
            session_epoch=claims.get(SESSION_EPOCH_CLAIM, 0),
        )

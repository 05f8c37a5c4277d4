"""Brand-signed assertions (JWT, HS256): how a brand platform vouches for a user it authenticated.

Used for SSO automatic login (sub = the member's SSO subject) and for client recognition in the
widget (sub = the brand's customer id). The header's `kid` names one of the brand's integration
keys; `aud` is "popsell:<brand_id>", so an assertion made for one brand never works on another;
`iat`, `exp` (at most 5 minutes later) and a `jti` used once are required.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from shared.integrations.errors import ExpiredAssertion, InvalidAssertion, UnknownKey

MAX_LIFETIME = timedelta(minutes=5)
# Brand and Popsell clocks differ a little: an `iat` this far in the future is still accepted.
CLOCK_SKEW = timedelta(seconds=30)
_REGISTERED = frozenset({"iss", "sub", "aud", "iat", "nbf", "exp", "jti"})


def audience_for(brand_id: str) -> str:
    """The `aud` every assertion for this brand carries."""
    return f"popsell:{brand_id}"


@dataclass(frozen=True)
class Assertion:
    """A verified assertion: who it vouches for, and the brand's extra (profile) claims."""

    kid: str
    subject: str
    token_id: str
    expires_at: datetime
    claims: dict[str, Any] = field(default_factory=dict)


def sign_assertion(
    *,
    kid: str,
    secret: str,
    brand_id: str,
    subject: str,
    now: datetime,
    ttl: timedelta = timedelta(minutes=2),
    token_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
    audience: str | None = None,
) -> str:
    """Make an assertion as a brand platform would (brand-side helper, docs and tests)."""
    payload: dict[str, Any] = dict(claims or {})
    payload.update({
        "sub": subject,
        "aud": audience or audience_for(brand_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": token_id or uuid.uuid4().hex,
    })
    return jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid})


def verify_assertion(token: str, *, keys: Mapping[str, str], brand_id: str, now: datetime) -> Assertion:
    """Check signature, audience and lifetime against the injected `now`; the jti is consumed elsewhere."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidAssertion() from exc
    secret = keys.get(kid) if isinstance(kid, str) else None
    if secret is None:
        raise UnknownKey()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience_for(brand_id),
            # Times are checked below against the injected clock, not the system clock.
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "require": ["sub", "aud", "iat", "exp", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidAssertion() from exc
    issued, expires = claims["iat"], claims["exp"]
    if not all(isinstance(value, int | float) for value in (issued, expires)):
        raise InvalidAssertion()
    if not isinstance(claims["sub"], str) or not claims["sub"] or not isinstance(claims["jti"], str):
        raise InvalidAssertion()
    if expires - issued > MAX_LIFETIME.total_seconds() or issued > (now + CLOCK_SKEW).timestamp():
        raise InvalidAssertion()
    if expires <= now.timestamp():
        raise ExpiredAssertion()
    return Assertion(
        kid=kid,
        subject=claims["sub"],
        token_id=claims["jti"],
        expires_at=datetime.fromtimestamp(expires, UTC),
        claims={key: value for key, value in claims.items() if key not in _REGISTERED},
    )

"""Social login (Google, Apple, Facebook): verify the provider's ID token with the brand's keys.

Each brand configures, per provider, the client id its App uses (the token's audience) and the
provider's public keys (a JWKS), under the brand document's `socialLogin` key:
`{"google": {"clientId": "...", "jwks": {"keys": [...]}}}`. Keys are read from the brand, never
fetched over the network at login: the platform refreshes them (a job or the operator) so a
login never depends on the provider's availability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import jwt

from shared.emails.address import checked_email
from shared.errors import Unauthorized
from shared.ports.store import DocumentNotFound, DocumentStore
from shared.store_schema import PLATFORM_SCOPE

Provider = Literal["google", "apple", "facebook"]
PROVIDERS: tuple[Provider, ...] = ("google", "apple", "facebook")
ALGORITHMS = ["RS256", "ES256"]
ISSUERS: dict[str, tuple[str, ...]] = {
    "google": ("https://accounts.google.com", "accounts.google.com"),
    "apple": ("https://appleid.apple.com",),
    "facebook": ("https://www.facebook.com", "https://facebook.com"),
}
_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class SocialIdentity:
    """Who the provider says the person is: its subject id and a verified email, when given."""

    provider: Provider
    subject: str
    email: str | None
    given_name: str | None = None
    family_name: str | None = None


def provider_config(*, store: DocumentStore, brand_id: str, provider: str) -> dict[str, Any] | None:
    """The brand's settings for one provider (`clientId`, `jwks`), or None when not configured."""
    try:
        doc = store.for_brand(PLATFORM_SCOPE).get("brands", brand_id)
    except DocumentNotFound:
        return None
    config = (doc.get("socialLogin") or {}).get(provider)
    if not isinstance(config, dict) or not config.get("clientId") or not config.get("jwks"):
        return None
    return config


def _signing_key(token: str, jwks: dict[str, Any]) -> Any:
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ALGORITHMS:
        raise Unauthorized("Unsupported ID token algorithm")
    keys = [key for key in jwt.PyJWKSet.from_dict(jwks).keys if key.key_id == header.get("kid")]
    if not keys:
        raise Unauthorized("Unknown ID token key")
    return keys[0].key


def _email_verified(claims: dict[str, Any]) -> bool:
    # Apple sends "true" as a string; Facebook's OIDC token has an email only once verified.
    value = claims.get("email_verified", True)
    return value is True or str(value).lower() == "true"


def verify_id_token(config: dict[str, Any], *, provider: Provider, id_token: str, now: datetime) -> SocialIdentity:
    """The identity in a provider's ID token: signature, audience, issuer and expiry checked; Unauthorized otherwise."""
    try:
        key = _signing_key(id_token, config["jwks"])
        claims = jwt.decode(
            id_token,
            key,
            algorithms=ALGORITHMS,
            audience=config["clientId"],
            # Time is checked against the injected clock below, not the system clock.
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_iss": False,
                     "require": ["exp", "sub", "iss", "aud"]},
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("Invalid ID token") from exc
    issuers = tuple(config.get("issuers") or ISSUERS[provider])
    if claims["iss"] not in issuers:
        raise Unauthorized("Invalid ID token issuer")
    timestamp = now.timestamp()
    if claims["exp"] <= timestamp - _LEEWAY_SECONDS or claims.get("nbf", 0) > timestamp + _LEEWAY_SECONDS:
        raise Unauthorized("ID token expired")
    # Only a verified address that is an address: anything else counts as no email given.
    raw = claims.get("email")
    email = checked_email(raw) if isinstance(raw, str) and _email_verified(claims) else None
    return SocialIdentity(
        provider=provider,
        subject=str(claims["sub"]),
        email=email,
        given_name=claims.get("given_name"),
        family_name=claims.get("family_name"),
    )

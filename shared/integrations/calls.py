"""Authenticate a brand platform: a signed request or a brand-signed assertion, each accepted once.

The pure rules are in `signing` and `assertions`; this module adds what needs the store: the
brand's keys, and the `nonces` container that remembers every signature and assertion id seen
while it could still be valid, so a replay inside the window is refused.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.clock import isoformat
from shared.errors import NotFound
from shared.integrations import assertions, signing
from shared.integrations.errors import IntegrationAuthError, ReplayedAssertion, ReplayedRequest, UnknownKey
from shared.ports.store import BrandStore, DocumentConflict, DocumentStore

log = logging.getLogger(__name__)

NONCES = "nonces"


@dataclass(frozen=True)
class AuthenticatedCall:
    """A verified brand-platform request: the brand in the path and the key that signed it."""

    brand: Brand
    kid: str


def brand_keys(brand: Brand) -> dict[str, str]:
    """The brand's integration keys, kid -> secret."""
    return {key.kid: key.secret for key in brand.integration_keys}


def integration_brand(*, store: DocumentStore, brand_id: str) -> Brand:
    """The brand whose keys may sign; an unknown or ended programme has no valid key at all."""
    try:
        brand = brands.get(store=store, brand_id=brand_id)
    except NotFound as exc:
        raise UnknownKey() from exc
    if brand.status == "contract_ended":
        raise UnknownKey()
    return brand


def use_once(
    *, store: BrandStore, nonce_id: str, now: datetime, until: datetime, replay_error: type[IntegrationAuthError]
) -> None:
    """Remember a nonce until it could no longer be valid; raise `replay_error` if it was seen already."""
    # Kept until the signed item leaves its validity window (plus a minute), never less than a minute.
    ttl = max(60, int((until - now).total_seconds()) + 60)
    try:
        store.create(NONCES, {"id": nonce_id, "ttl": ttl, "expiresAt": isoformat(now + timedelta(seconds=ttl))})
    except DocumentConflict as exc:
        log.warning("replayed integration nonce refused brand=%s", store.brand_id)
        raise replay_error() from exc


def authenticate_request(
    *,
    store: DocumentStore,
    brand_id: str,
    kid: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
) -> AuthenticatedCall:
    """Verify a signed request for the brand in its path and accept its signature once."""
    brand = integration_brand(store=store, brand_id=brand_id)
    signed_at = signing.verify(
        keys=brand_keys(brand), kid=kid, timestamp=timestamp, signature=signature,
        method=method, path=path, body=body, now=now,
    )
    # `verify` accepted only the exact signature, so this is the value that was checked, byte for byte.
    digest = hashlib.sha256(f"{kid}.{signature}".encode()).hexdigest()
    until = datetime.fromtimestamp(signed_at, now.tzinfo) + signing.REPLAY_WINDOW
    use_once(store=store.for_brand(brand.id), nonce_id=f"sig:{digest}", now=now, until=until,
             replay_error=ReplayedRequest)
    return AuthenticatedCall(brand=brand, kid=kid or "")


def accept_assertion(*, store: DocumentStore, brand: Brand, token: str, now: datetime) -> assertions.Assertion:
    """Verify a brand-signed assertion for this brand and use its `jti` up."""
    assertion = assertions.verify_assertion(token, keys=brand_keys(brand), brand_id=brand.id, now=now)
    digest = hashlib.sha256(f"{assertion.kid}.{assertion.token_id}".encode()).hexdigest()
    use_once(store=store.for_brand(brand.id), nonce_id=f"jti:{digest}", now=now, until=assertion.expires_at,
             replay_error=ReplayedAssertion)
    return assertion

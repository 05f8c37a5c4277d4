"""Login (and first signup) with a Google, Apple or Facebook ID token.

The provider has verified the email, so a newcomer is active at once (the guide: "verified
through a double opt-in process, or via a social media login process"), once the Popsell terms
are accepted in the same request. The provider's subject id is kept as a keyed hash (a unique
key) beside the clear value, as the member table asks.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.errors import InvalidInput
from shared.identity import repository
from shared.identity.auth import AuthContext, InvalidCredentials, refuse_if_sso_only
from shared.identity.login import start_session
from shared.identity.models import ACCESS_STATUSES, Member, TermsAcceptance
from shared.identity.sessions import TokenPair
from shared.identity.signup import allowed_role
from shared.identity.social import Provider, SocialIdentity, provider_config, verify_id_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SocialSignupDetails:
    """What a first social login may add: the terms (mandatory for a new account) and names."""

    accept_terms: bool = False
    terms_version: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    alias: str | None = None
    preferred_language: str | None = None


def social_login(
    *, ctx: AuthContext, provider: Provider, id_token: str, details: SocialSignupDetails, now: datetime
) -> tuple[TokenPair, bool]:
    """Log a member in with a provider's ID token, creating the account on first use; (tokens, created)."""
    refuse_if_sso_only(ctx=ctx)
    config = provider_config(store=ctx.container.store, brand_id=ctx.brand_id, provider=provider)
    if config is None:
        raise InvalidInput("This programme does not offer this login",
                           errors=[{"field": "provider", "message": "not configured for this programme"}])
    identity = verify_id_token(config, provider=provider, id_token=id_token, now=now)
    social_hash = ctx.hasher("social_id", f"{provider}:{identity.subject}")

    owner = repository.owner_of(store=ctx.store, kind="social_id", hashed=social_hash)
    if owner is not None:
        member, _ = repository.get_member(store=ctx.store, member_id=owner)
        return _session(ctx, member, now), False
    if not identity.email:
        raise InvalidInput("The provider did not share a verified email address",
                           errors=[{"field": "idToken", "message": "no verified email"}])
    email_hash = ctx.hasher("email", identity.email)
    existing = repository.owner_of(store=ctx.store, kind="email", hashed=email_hash)
    if existing is not None:
        member = _link(ctx, existing, identity, social_hash, now)
        return _session(ctx, member, now), False
    member = _create(ctx, identity, details, email_hash=email_hash, social_hash=social_hash, now=now)
    return _session(ctx, member, now), True


def _session(ctx: AuthContext, member: Member, now: datetime) -> TokenPair:
    if member.status not in ACCESS_STATUSES:
        raise InvalidCredentials("This account has no access")
    return start_session(ctx=ctx, member=member, now=now, method="social")


def _link(ctx: AuthContext, member_id: str, identity: SocialIdentity, social_hash: str, now: datetime) -> Member:
    """Attach the provider to the account holding the same verified email."""
    member, etag = repository.get_member(store=ctx.store, member_id=member_id)
    if member.status not in ACCESS_STATUSES | {"pending_verification"}:
        raise InvalidCredentials("This account has no access")
    changes: dict = {
        "social_ids": {**member.social_ids, identity.provider: identity.subject},
        "social_id_hashes": {**member.social_id_hashes, identity.provider: social_hash},
    }
    if member.status == "pending_verification":
        # The provider proved the address. The password was set by whoever filled the form, who may
        # not own the address (pre-account takeover): it is dropped; the owner can set one by reset.
        changes.update(status="active", email_verified_at=now, status_changed_at=now, password_hash=None)
    if not repository.claim_key(store=ctx.store, kind="social_id", hashed=social_hash, owner_id=member.id,
                                owner_type="member"):
        raise InvalidCredentials("This social account belongs to another member")
    repository.save(store=ctx.store, container=repository.MEMBERS, model=member.model_copy(update=changes), etag=etag)
    log.info("member %s linked a %s login on brand %s", member.id, identity.provider, ctx.brand_id)
    return member.model_copy(update=changes)


def _create(ctx: AuthContext, identity: SocialIdentity, details: SocialSignupDetails, *, email_hash: str,
            social_hash: str, now: datetime) -> Member:
    errors = []
    if details.accept_terms is not True:
        errors.append({"field": "acceptTerms", "message": "the Popsell Terms and Conditions must be accepted"})
    if not details.terms_version:
        errors.append({"field": "termsVersion", "message": "required with acceptTerms"})
    first_name = details.first_name or identity.given_name
    last_name = details.last_name or identity.family_name
    if ctx.brand.display_name_policy == "alias" and not details.alias:
        errors.append({"field": "alias", "message": "required by this programme"})
    if errors:
        raise InvalidInput("Missing: " + ", ".join(e["field"] for e in errors), errors=errors)
    role = allowed_role(ctx=ctx, email_hash=email_hash, customer_id_hash=None)
    member_id = uuid.uuid4().hex
    claimed: list[tuple[str, str]] = []
    try:
        for kind, hashed in (("email", email_hash), ("social_id", social_hash)):
            if not repository.claim_key(store=ctx.store, kind=kind, hashed=hashed, owner_id=member_id,
                                        owner_type="member"):
                raise InvalidCredentials("This account is being created; try again")
            claimed.append((kind, hashed))
        member = Member(
            id=member_id, role=role, status="active", created_at=now,
            first_name=(first_name or None) and first_name[:80], last_name=(last_name or None) and last_name[:80],
            alias=details.alias, email=identity.email, email_hash=email_hash, email_verified_at=now,
            social_ids={identity.provider: identity.subject}, social_id_hashes={identity.provider: social_hash},
            preferred_language=details.preferred_language,
            popsell_terms=TermsAcceptance(version=details.terms_version or "", accepted_at=now),
            status_changed_at=now, last_activity_at=now,
        )
        repository.save(store=ctx.store, container=repository.MEMBERS, model=member, etag=None)
    except Exception:
        for kind, hashed in claimed:
            repository.release_key(store=ctx.store, kind=kind, hashed=hashed, owner_id=member_id)
        raise
    log.info("member %s signed up with %s on brand %s (role %d)", member_id, identity.provider, ctx.brand_id, role)
    return member

"""Brand SSO: members provisioned, kept in sync and ended by the brand's own platform.

The brand's platform authenticated the person and verified the address, so an SSO member is
active at once; the Popsell Terms were collected by the brand's platform for us (the SSO guide),
which is why the first call must say when and which version was accepted. Later calls change
only the fields the brand synchronises (`SYNCED_FIELDS`) and only those present in the call:
what the member edits in the App (alias, photo, presentation, opt-ins...) is never touched.
The brand's subject id is a unique key (`sso_subject` in identity_keys, keyed hash), as are the
email and the customer id, so two calls racing on one subject make one member.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator

from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.clock import isoformat
from shared.emails.address import EmailAddress
from shared.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shared.events.model import Publisher
from shared.identity import lifecycle, repository
from shared.identity.events import joined
from shared.identity.models import ACCESS_STATUSES, Address, CamelModel, Member, Role, TermsAcceptance
from shared.integrations.assertions import Assertion
from shared.ports.store import BrandStore, PatchOp
from shared.ports.store_retry import Retry, retrying

log = logging.getLogger(__name__)

Hasher = Callable[[str, str], str]

SSO_KEY = "sso_subject"
# The fields a brand platform synchronises; everything else on a member is the member's own.
SYNCED_FIELDS = ("email", "first_name", "last_name", "customer_id", "role", "preferred_language", "position",
                 "home_shop_id", "address")
_REQUIRED_TO_PROVISION = ("email", "role", "terms_accepted_at", "terms_version")
_ENDED = frozenset({"unsubscribed", "contract_ended", "erased"})
_ATTEMPTS = 4
# A terms acceptance dated later than this after our clock is a mistake, not a consent.
_SKEW = timedelta(minutes=5)


class AccountEnded(Conflict):
    """The member left or was ended: the brand platform cannot sync it back (a Manager admin can reactivate)."""

    code = "member-account-ended"
    title = "This member's account has ended"


class SsoMemberSync(CamelModel):
    """A member as the brand platform sends it (provisioning or update); unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    sso_subject: str = Field(min_length=1, max_length=200)
    email: EmailAddress | None = None
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    customer_id: str | None = Field(None, min_length=1, max_length=120)
    role: Role | None = None
    preferred_language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    position: str | None = Field(None, max_length=120)
    home_shop_id: str | None = Field(None, max_length=120)
    address: Address | None = None
    terms_accepted_at: datetime | None = None
    terms_version: str | None = Field(None, min_length=1, max_length=40)

    @field_validator("role")
    @classmethod
    def _member_role(cls, value: Role | None) -> Role | None:
        if value is not None and not value.is_member:
            raise ValueError("a member's role is 0 to 6 (7 and 8 are external users)")
        return value

    @field_validator("terms_accepted_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _alias(name: str) -> str:
    return SsoMemberSync.model_fields[name].alias or name


def _field_error(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for: {_alias(name)}", errors=[{"field": _alias(name), "message": message}])


def _check_terms(profile: SsoMemberSync, given: set[str], now: datetime) -> TermsAcceptance | None:
    """The terms acceptance the call carries (both fields or neither), never dated in the future."""
    pair = {"terms_accepted_at", "terms_version"}
    if not pair & given:
        return None
    missing = [name for name in sorted(pair) if getattr(profile, name) is None]
    if missing:
        raise _field_error(missing[0], "termsAcceptedAt and termsVersion go together")
    assert profile.terms_accepted_at is not None and profile.terms_version is not None
    if profile.terms_accepted_at > now + _SKEW:
        raise _field_error("terms_accepted_at", "cannot be in the future")
    return TermsAcceptance(version=profile.terms_version, accepted_at=profile.terms_accepted_at)


def _require_provisioning_fields(profile: SsoMemberSync) -> None:
    missing = [name for name in _REQUIRED_TO_PROVISION if getattr(profile, name) is None]
    if missing:
        errors = [{"field": _alias(name), "message": "required to provision a new member"} for name in missing]
        raise InvalidInput("Missing: " + ", ".join(error["field"] for error in errors), errors=errors)


def _claim(store: BrandStore, kind: str, hashed: str, member_id: str, field: str) -> None:
    if not repository.claim_key(store=store, kind=kind, hashed=hashed, owner_id=member_id, owner_type="member"):
        raise Conflict(f"This {_alias(field)} belongs to another member",
                       errors=[{"field": _alias(field), "message": "already used by another member"}])


def _provision(store: BrandStore, hasher: Hasher, member_id: str, profile: SsoMemberSync, now: datetime) -> Member:
    terms = _check_terms(profile, profile.model_fields_set, now)
    assert profile.email is not None and profile.role is not None
    email_hash = hasher("email", profile.email)
    customer_id_hash = hasher("customer_id", profile.customer_id) if profile.customer_id else None
    claimed: list[tuple[str, str]] = []
    try:
        _claim(store, "email", email_hash, member_id, "email")
        claimed.append(("email", email_hash))
        if customer_id_hash:
            _claim(store, "customer_id", customer_id_hash, member_id, "customer_id")
            claimed.append(("customer_id", customer_id_hash))
    except Conflict:
        for kind, hashed in claimed:
            repository.release_key(store=store, kind=kind, hashed=hashed, owner_id=member_id)
        raise
    member = Member(
        id=member_id, role=profile.role, status="active", created_at=now, status_changed_at=now,
        first_name=profile.first_name, last_name=profile.last_name,
        email=profile.email.strip(), email_hash=email_hash, email_verified_at=now,  # verified by the brand
        customer_id=profile.customer_id, customer_id_hash=customer_id_hash,
        preferred_language=profile.preferred_language, position=profile.position, home_shop_id=profile.home_shop_id,
        address=profile.address or Address(), popsell_terms=terms, sso_subject=profile.sso_subject,
        last_activity_at=now,
    )
    # A concurrent first call for the same subject creates the same id: Conflict, and the caller retries
    # as an update (the keys it claimed are the same member's, so nothing is released).
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    log.info("SSO provisioned member %s on brand %s", member_id, store.brand_id)
    return member


def _synced_changes(store: BrandStore, hasher: Hasher, member: Member, profile: SsoMemberSync,
                    now: datetime) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The member fields this call changes, and the old unique keys to give back once saved."""
    given = profile.model_fields_set
    changes: dict[str, Any] = {name: getattr(profile, name) for name in SYNCED_FIELDS if name in given}
    released: list[tuple[str, str]] = []
    for name in ("email", "role"):
        if name in changes and changes[name] is None:
            raise _field_error(name, "a member always has one")
    if "address" in changes and changes["address"] is None:
        changes["address"] = Address()
    if "email" in changes:
        changes["email"] = changes["email"].strip()
        email_hash = hasher("email", changes["email"])
        if email_hash != member.email_hash:
            _claim(store, "email", email_hash, member.id, "email")
            if member.email_hash:
                released.append(("email", member.email_hash))
            changes.update(email_hash=email_hash, email_verified_at=now)
    if "customer_id" in changes:
        customer_id_hash = hasher("customer_id", changes["customer_id"]) if changes["customer_id"] else None
        if customer_id_hash != member.customer_id_hash:
            if customer_id_hash:
                _claim(store, "customer_id", customer_id_hash, member.id, "customer_id")
            if member.customer_id_hash:
                released.append(("customer_id", member.customer_id_hash))
            changes["customer_id_hash"] = customer_id_hash
    terms = _check_terms(profile, given, now)
    if terms is not None:
        changes["popsell_terms"] = terms
    return changes, released


def _update(store: BrandStore, hasher: Hasher, member: Member, etag: str | None, profile: SsoMemberSync,
            now: datetime) -> Member:
    if member.status in _ENDED:
        raise AccountEnded("This member's account has ended; a Manager admin can reactivate it within the delay")
    changes, released = _synced_changes(store, hasher, member, profile, now)
    if not changes:
        return member
    updated = member.model_copy(update=changes)
    try:
        Member.model_validate(updated.model_dump())
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    lifecycle.save_member(store=store, member=updated, etag=etag)
    for kind, hashed in released:
        repository.release_key(store=store, kind=kind, hashed=hashed, owner_id=member.id)
    return updated


def upsert_member(*, store: BrandStore, events: Publisher, hasher: Hasher, profile: SsoMemberSync,
                  now: datetime) -> tuple[Member, bool]:
    """Provision the member of this SSO subject (MemberJoined), or update its synced fields; (member, created)."""
    subject_hash = hasher(SSO_KEY, profile.sso_subject)

    def attempt() -> tuple[Member, bool]:
        owner = repository.owner_of(store=store, kind=SSO_KEY, hashed=subject_hash)
        doc = store.find(repository.MEMBERS, owner) if owner else None
        if doc is None:
            # New subject (or a claim whose member was never written): check everything before writing.
            _require_provisioning_fields(profile)
            _check_terms(profile, profile.model_fields_set, now)
            member_id = owner or uuid.uuid4().hex
            if owner is None and not repository.claim_key(store=store, kind=SSO_KEY, hashed=subject_hash,
                                                          owner_id=member_id, owner_type="member"):
                raise Retry
            try:
                return _provision(store, hasher, member_id, profile, now), True
            except Conflict as exc:
                if exc.extra.get("errors"):
                    if owner is None:
                        repository.release_key(store=store, kind=SSO_KEY, hashed=subject_hash, owner_id=member_id)
                    raise
                raise Retry from exc
        member, etag = repository.from_document(Member, doc)
        return _update(store, hasher, member, etag, profile, now), False

    member, created = retrying(attempt, attempts=_ATTEMPTS,
                               exhausted=Conflict("This member was changed concurrently; try again"))
    if created:
        events.publish(joined(store.brand_id, member, via="sso", now=now))
    return member, created


def member_id_of(*, store: BrandStore, hasher: Hasher, sso_subject: str) -> str:
    """The member provisioned for an SSO subject; NotFound otherwise."""
    owner = repository.owner_of(store=store, kind=SSO_KEY, hashed=hasher(SSO_KEY, sso_subject))
    if owner is None or store.find(repository.MEMBERS, owner) is None:
        raise NotFound("No member for this SSO subject")
    return owner


def end_member(*, store: BrandStore, events: Publisher, hasher: Hasher, brand: Brand, sso_subject: str,
               now: datetime) -> Member:
    """The brand deleted the account: access blocked at once, erasure after the brand's end-of-contract delay."""
    member_id = member_id_of(store=store, hasher=hasher, sso_subject=sso_subject)
    return lifecycle.end_contract(store=store, events=events, brand=brand, member_id=member_id, now=now,
                                  source="sso")


def profile_from_assertion(assertion: Assertion) -> SsoMemberSync:
    """The profile an SSO assertion carries: `sub` is the SSO subject; other claims named as in the API."""
    known = {_alias(name) for name in SsoMemberSync.model_fields} - {"ssoSubject"}
    claims = {key: value for key, value in assertion.claims.items() if key in known}
    try:
        return SsoMemberSync.model_validate({**claims, "ssoSubject": assertion.subject})
    except ValidationError as exc:
        raise invalid_input(exc) from exc


def login(*, store: BrandStore, events: Publisher, hasher: Hasher, assertion: Assertion,
          now: datetime) -> tuple[Member, bool]:
    """Automatic login by a verified assertion: provision or update; the member must have access."""
    try:
        member, created = upsert_member(store=store, events=events, hasher=hasher,
                                        profile=profile_from_assertion(assertion), now=now)
    except AccountEnded as exc:
        raise Unauthorized("This account has no access") from exc
    if member.status not in ACCESS_STATUSES:
        raise Unauthorized("This account has no access")
    # The 3-year inactivity rule reads lastActivityAt: a login is an activity (a patch: no race to lose).
    store.patch(repository.MEMBERS, member.id, [PatchOp("set", "lastActivityAt", isoformat(now))])
    return member.model_copy(update={"last_activity_at": now}), created

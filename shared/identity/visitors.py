"""External users of the widget: temporary accounts (role 8) and clients (role 7).

A document exists only once the visitor accepts the Widget Policy: affiliation-only visitors
(who never did) have none, so never a name or an email. A first name or an email (`email_tmp`,
never `email`) is kept only with the service terms accepted too, and only for the purpose the
widget declared (`EMAIL_TMP_PURPOSES`). When the brand's site vouches for the visitor with a
signed assertion, the visitor becomes the client of that customer id, or merges into the client
who already has it. Every interaction moves `lastInteractionAt`, which the 3-year rule reads.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.clock import isoformat
from shared.emails.address import EmailAddress, checked_email
from shared.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shared.events.model import Publisher
from shared.identity import events as identity_events
from shared.identity import repository
from shared.identity.models import CamelModel, ExternalUser, Role, TermsAcceptance
from shared.identity.tokens import TokenService
from shared.integrations.assertions import Assertion
from shared.ports.store import BrandStore, DocumentStore, PatchOp
from shared.ports.store_retry import Retry, retrying

log = logging.getLogger(__name__)

Hasher = Callable[[str, str], str]

WIDGET_TOKEN_TTL = timedelta(hours=24)
# Unique key of a client: the keyed hash of the brand's customer id. Its own kind, apart from the
# members' "customer_id" keys: a member may also be a customer of the brand's shop.
CLIENT_KEY = "client_customer_id"
# What an email_tmp may be used for (Data Protection Guide v4, external users): one notification
# by email when a member replied in a conversation while the visitor was away. Nothing else.
EMAIL_TMP_PURPOSES = ("conversation_notification",)
EmailTmpPurpose = Literal["conversation_notification"]
_ATTEMPTS = 4


class _PersonalData(CamelModel):
    """The personal data a visitor may leave, only with the service terms accepted."""

    model_config = ConfigDict(extra="forbid")

    accept_service_terms: bool | None = None
    service_terms_version: str | None = Field(None, min_length=1, max_length=40)
    first_name: str | None = Field(None, min_length=1, max_length=80)
    email_tmp: EmailAddress | None = None
    email_tmp_purpose: EmailTmpPurpose | None = None


class VisitorCreate(_PersonalData):
    """Opening a temporary account: the Widget Policy must be accepted."""

    accept_widget_policy: bool
    widget_policy_version: str = Field(min_length=1, max_length=40)

    @field_validator("accept_widget_policy")
    @classmethod
    def _policy_accepted(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("the Widget Policy must be accepted before anything is kept")
        return value


class VisitorUpdate(_PersonalData):
    """Accepting the service terms later, adding or removing a first name or an email (null removes)."""


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for: {field}", errors=[{"field": field, "message": message}])


def _apply_personal_data(visitor: ExternalUser, data: _PersonalData, hasher: Hasher, now: datetime) -> ExternalUser:
    """The visitor with this request's consent and personal data (pure); 422 naming the field when not allowed."""
    given = data.model_fields_set
    changes: dict[str, Any] = {}
    if data.accept_service_terms:
        if not data.service_terms_version:
            raise _refuse("serviceTermsVersion", "required with acceptServiceTerms: true")
        changes["service_terms"] = TermsAcceptance(version=data.service_terms_version, accepted_at=now)
    elif data.accept_service_terms is False and visitor.service_terms is not None:
        # Withdrawn: what was kept under the service terms goes with them.
        changes.update(service_terms=None, first_name=None, email_tmp=None, email_tmp_hash=None)
    terms_accepted = bool(data.accept_service_terms) or (
        visitor.service_terms is not None and data.accept_service_terms is not False
    )
    for name, alias in (("first_name", "firstName"), ("email_tmp", "emailTmp")):
        if name in given and getattr(data, name) is not None and not terms_accepted:
            raise _refuse(alias, "accepted only together with acceptServiceTerms: true (the service terms)")
    if "email_tmp_purpose" in given and "email_tmp" not in given:
        raise _refuse("emailTmpPurpose", "goes with emailTmp")
    if "first_name" in given:
        changes["first_name"] = data.first_name.strip() if data.first_name else None
    if "email_tmp" in given:
        email = data.email_tmp.strip() if data.email_tmp else None
        changes.update(email_tmp=email, email_tmp_hash=hasher("email", email) if email else None)
    return visitor.model_copy(update=changes)


def open_brand(*, store: DocumentStore, brand_id: str) -> Brand:
    """The brand of a widget call; an unknown or ended programme answers 404."""
    brand = brands.get(store=store, brand_id=brand_id)
    if brand.status == "contract_ended":
        raise NotFound("Brand not found")
    return brand


def widget_token(tokens: TokenService, visitor: ExternalUser, *, brand_id: str, now: datetime) -> str:
    """A widget access token for an external user (24 hours)."""
    return tokens.issue(subject=visitor.id, audience="widget", brand_id=brand_id, now=now, ttl=WIDGET_TOKEN_TTL,
                        role=int(visitor.role))


def create_temporary_account(*, store: BrandStore, hasher: Hasher, data: VisitorCreate, now: datetime) -> ExternalUser:
    """Open a temporary account (role 8) for a visitor who accepted the Widget Policy."""
    visitor = ExternalUser(
        id=uuid.uuid4().hex, role=Role.TEMPORARY_ACCOUNT, created_at=now, last_interaction_at=now,
        widget_policy=TermsAcceptance(version=data.widget_policy_version, accepted_at=now),
    )
    visitor = _apply_personal_data(visitor, data, hasher, now)
    repository.save(store=store, container=repository.VISITORS, model=visitor, etag=None)
    log.info("temporary account %s opened on brand %s", visitor.id, store.brand_id)
    return visitor


def _active(store: BrandStore, visitor_id: str) -> tuple[ExternalUser, str | None]:
    try:
        visitor, etag = repository.get_visitor(store=store, visitor_id=visitor_id)
    except NotFound as exc:
        raise Unauthorized("This visitor account no longer exists") from exc
    if visitor.status != "active":
        # Merged into a client (a newer token was handed out) or erased.
        raise Unauthorized("This visitor account no longer exists")
    return visitor, etag


def record_interaction(*, store: BrandStore, visitor_id: str, now: datetime) -> ExternalUser:
    """The calling external user, active, with `lastInteractionAt` moved to now (the 3-year rule reads it)."""
    visitor, _ = _active(store, visitor_id)
    store.patch(repository.VISITORS, visitor.id, [PatchOp("set", "lastInteractionAt", isoformat(now))])
    return visitor.model_copy(update={"last_interaction_at": now})


def update(*, store: BrandStore, hasher: Hasher, visitor_id: str, data: VisitorUpdate, now: datetime) -> ExternalUser:
    """Accept the service terms, add or remove a first name or email_tmp."""

    def attempt() -> ExternalUser:
        visitor, etag = _active(store, visitor_id)
        updated = _apply_personal_data(visitor, data, hasher, now).model_copy(update={"last_interaction_at": now})
        repository.save(store=store, container=repository.VISITORS, model=updated, etag=etag)
        return updated

    return retrying(attempt, attempts=_ATTEMPTS, exhausted=_changed_concurrently())


def _merge_into(client: ExternalUser, temporary: ExternalUser, now: datetime) -> ExternalUser:
    """The client after a temporary account merges into it (pure): the client's own data wins.

    Service terms, first name and email_tmp come over only where the client has none; of the two
    Widget Policy acceptances the later one stands (the person's latest consent).
    """
    changes: dict[str, Any] = {"last_interaction_at": now}
    if temporary.widget_policy.accepted_at > client.widget_policy.accepted_at:
        changes["widget_policy"] = temporary.widget_policy
    if client.service_terms is None and temporary.service_terms is not None:
        changes["service_terms"] = temporary.service_terms
    if client.first_name is None and temporary.first_name:
        changes["first_name"] = temporary.first_name
    if client.email_tmp is None and temporary.email_tmp:
        changes.update(email_tmp=temporary.email_tmp, email_tmp_hash=temporary.email_tmp_hash)
    return client.model_copy(update=changes)


def _merged(temporary: ExternalUser, client_id: str, now: datetime) -> ExternalUser:
    """The temporary account once merged: a pointer to the client, its personal data moved or dropped."""
    return temporary.model_copy(update={
        "status": "merged", "merged_into": client_id, "first_name": None, "email_tmp": None, "email_tmp_hash": None,
        "last_interaction_at": now,
    })


def _brand_profile(client: ExternalUser, claims: dict[str, Any], hasher: Hasher) -> ExternalUser:
    """First name and email the brand's site sent, kept only under accepted service terms (else dropped)."""
    if client.service_terms is None:
        return client
    changes: dict[str, Any] = {}
    first_name = claims.get("firstName")
    if isinstance(first_name, str) and 0 < len(first_name.strip()) <= 80:
        changes["first_name"] = first_name.strip()
    email = claims.get("email")
    if email is not None:
        address = checked_email(email) if isinstance(email, str) else None
        if address is None:
            raise _refuse("assertion.email", "not an email address")
        changes.update(email_tmp=address, email_tmp_hash=hasher("email", address))
    return client.model_copy(update=changes)


def recognise_client(
    *, store: BrandStore, events: Publisher, hasher: Hasher, visitor_id: str, assertion: Assertion, now: datetime
) -> ExternalUser:
    """The brand's site vouches for the visitor (sub = customer id): the client it is, or merges into.

    A merge raises `VisitorMerged`: the temporary account's conversations become the client's.
    """
    customer_hash = hasher("customer_id", assertion.subject)

    # A lost race (a claim, a save) reads everything again; merging again is harmless: the
    # client's own data always wins.
    def attempt() -> ExternalUser:
        visitor, etag = _active(store, visitor_id)
        if visitor.role == Role.CLIENT and visitor.customer_id_hash != customer_hash:
            raise Conflict("This widget session belongs to another client: open a new visitor session")
        owner = repository.owner_of(store=store, kind=CLIENT_KEY, hashed=customer_hash)
        if owner is None and not repository.claim_key(store=store, kind=CLIENT_KEY, hashed=customer_hash,
                                                      owner_id=visitor.id, owner_type="visitor"):
            raise Retry
        if owner is None or owner == visitor.id:
            client = visitor.model_copy(update={"role": Role.CLIENT, "customer_id_hash": customer_hash,
                                                "last_interaction_at": now})
            client = _brand_profile(client, assertion.claims, hasher)
            repository.save(store=store, container=repository.VISITORS, model=client, etag=etag)
            log.info("visitor %s recognised as a client on brand %s", visitor.id, store.brand_id)
            return client
        doc = store.find(repository.VISITORS, owner)
        if doc is None or doc.get("status") != "active":
            # The key outlived its client (erased after 3 years without interaction): this visitor takes it.
            repository.release_key(store=store, kind=CLIENT_KEY, hashed=customer_hash, owner_id=owner)
            raise Retry
        existing, client_etag = repository.from_document(ExternalUser, doc)
        client = _brand_profile(_merge_into(existing, visitor, now), assertion.claims, hasher)
        repository.save(store=store, container=repository.VISITORS, model=client, etag=client_etag)
        repository.save(store=store, container=repository.VISITORS, model=_merged(visitor, client.id, now), etag=etag)
        log.info("temporary account %s merged into client %s on brand %s", visitor.id, client.id, store.brand_id)
        events.publish(identity_events.merged(store.brand_id, visitor.id, client.id, at=now))
        return client

    return retrying(attempt, attempts=_ATTEMPTS, exhausted=_changed_concurrently())


def _changed_concurrently() -> Conflict:
    return Conflict("This visitor was changed concurrently; try again")

"""Brand database synchronisation (guide, "Contacts collection" 3): contacts upserted and deleted by the brand.

The brand names its record by its own id (the external id); a unique key in `identity_keys`
(kind "contact_external", keyed hash of the external id) maps it to one contact of the brand, so
the same call twice updates that contact instead of adding another. The opt-in rules are those of
`sources.brand_sync`; creation goes through `service.create` (blacklist, scenario check).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.crm import blacklist, contact_journal, service, sources
from shared.crm.consent import ConsentEvent, transition
from shared.crm.events import consent_changed
from shared.crm.models import Contact, ContactAddress, ContactSource
from shared.crm.views import ContactCreate, MemberRef, _Body
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.model import Publisher
from shared.gdpr.journal import Journal
from shared.identity import repository, sso
from shared.identity.models import Member
from shared.ports.store import BrandStore, DocumentNotFound

EXTERNAL_KEY = "contact_external"
MODIFIED_BY = ContactSource.BRAND_SYNC.value
log = logging.getLogger(__name__)


class MemberNotActive(Conflict):
    code = "member-not-active"
    title = "Contacts can only be added to an active member"


class ExternalIdOfAnotherMember(Conflict):
    code = "external-id-of-another-member"
    title = "This external id already names a contact of another member"


class SyncedContact(_Body, MemberRef):
    """A contact as the brand's database sends it; fields absent are left as they are, null clears."""

    contact_type: None = Field(None, alias="contactType", exclude=True)
    notes: None = Field(None, exclude=True)
    opt_in: bool | None = Field(None, alias="optIn")

    def contact_data(self) -> ContactCreate:
        """The contact fields, as a member-side creation would carry them."""
        if not self.filled():
            raise InvalidInput("At least one field must be filled",
                               errors=[{"field": "body", "message": "empty contact"}])
        fields = self.model_dump(exclude_unset=True, exclude={"member_id", "sso_subject", "opt_in"})
        try:
            return ContactCreate.model_validate(fields)
        except ValidationError as exc:
            raise invalid_input(exc) from exc


def resolve_member(*, store: BrandStore, hasher: service.Hasher, ref: MemberRef) -> Member:
    """The active member the call names (by id or SSO subject); 404 if unknown, 409 if not active."""
    member_id = ref.member_id or sso.member_id_of(store=store, hasher=hasher, sso_subject=ref.sso_subject or "")
    member, _ = repository.get_member(store=store, member_id=member_id)
    if member.status != "active":
        raise MemberNotActive("This member cannot receive contacts now")
    return member


def _external_hash(hasher: service.Hasher, external_id: str) -> str:
    # The brand's record id may be a customer number: only its keyed hash is stored.
    return hasher("customer_id", f"external:{external_id}")


def _load(store: BrandStore, contact_id: str) -> tuple[Contact, str | None] | None:
    try:
        return service.from_document(store.get(service.CONTACTS, contact_id))
    except DocumentNotFound:
        return None


def mapped_contact(*, store: BrandStore, hasher: service.Hasher, external_id: str) -> tuple[Contact, str | None] | None:
    """The contact the brand's external id names, if any (erased ones included)."""
    contact_id = repository.owner_of(store=store, kind=EXTERNAL_KEY, hashed=_external_hash(hasher, external_id))
    return _load(store, contact_id) if contact_id else None


def _with_fields(contact: Contact, data: SyncedContact, hasher: service.Hasher, now: datetime) -> Contact:
    sent = data.model_dump(exclude_unset=True, exclude={"member_id", "sso_subject", "opt_in"})
    update: dict[str, Any] = {key: value for key, value in sent.items() if key != "address"}
    if "address" in sent:
        address = contact.address.model_dump()
        address.update(data.address.model_dump(exclude_unset=True) if data.address else
                       {"city": None, "postal_code": None, "country": None})
        update["address"] = ContactAddress.model_validate(address)
    if "email" in sent:
        update["email_hash"] = hasher("email", data.email) if data.email else None
    if "customer_id" in sent:
        update["customer_id_hash"] = hasher("customer_id", data.customer_id) if data.customer_id else None
    if "tags" in sent:
        update["tags"] = data.tags or []
    changed = contact.model_copy(update=update)
    if data.opt_in:
        # A later "opted in" from the brand applies to both, never over the contact's own refusal.
        state = transition(changed.consent, ConsentEvent.BRAND_SYNC_OPT_IN, now)
        if (state.member, state.brand) != (changed.member_opt_in, changed.brand_opt_in):
            changed = changed.with_consent(state)
    if changed == contact:
        return contact
    history = contact.history.model_copy(update={"modified_by": MODIFIED_BY, "modified_at": now})
    return Contact.model_validate(changed.model_copy(update={"history": history}).model_dump())


def _update(*, store: BrandStore, events: Publisher, brand: Brand, contact: Contact, etag: str | None,
            data: SyncedContact, hasher: service.Hasher, now: datetime) -> Contact:
    updated = _with_fields(contact, data, hasher, now)
    if updated.email_hash != contact.email_hash and blacklist.is_blocked(store=store, email_hash=updated.email_hash):
        raise service.ContactBlacklisted("This address cannot be added to any member's contacts")
    if not any([updated.first_name, updated.last_name, updated.email, updated.customer_id, updated.tags,
                updated.address.city, updated.address.postal_code, updated.address.country]):
        raise InvalidInput("At least one field must stay filled",
                           errors=[{"field": "body", "message": "empty contact"}])
    if updated != contact:
        store.replace(service.CONTACTS, service.to_document(updated, brand), etag=etag)
        events.publish(*consent_changed(brand.id, contact, updated, cause=ConsentEvent.BRAND_SYNC_OPT_IN, now=now))
    return updated


def _same_email_contact(store: BrandStore, member_id: str, email_hash: str | None) -> tuple[Contact, str | None] | None:
    return service.by_address(store=store, member_id=member_id, email_hash=email_hash) if email_hash else None


def upsert(*, store: BrandStore, events: Publisher, brand: Brand, external_id: str, data: SyncedContact,
           hasher: service.Hasher, now: datetime) -> tuple[Contact, bool]:
    """Create or update the contact of the brand's record `external_id`; True when it was created."""
    member = resolve_member(store=store, hasher=hasher, ref=data)
    # Checked before anything is read or written, whatever the call would do.
    sources.brand_sync(brand, member.role, data.opt_in, now)
    key = _external_hash(hasher, external_id)
    found = mapped_contact(store=store, hasher=hasher, external_id=external_id)
    if found and found[0].status == "active":
        contact, etag = found
        if contact.member_id != member.id:
            raise ExternalIdOfAnotherMember("This external id names a contact of another member")
        return _update(store=store, events=events, brand=brand, contact=contact, etag=etag, data=data, hasher=hasher,
                       now=now), False
    contact_data = data.contact_data()
    email_hash = hasher("email", contact_data.email) if contact_data.email else None
    if blacklist.is_blocked(store=store, email_hash=email_hash):
        raise service.ContactBlacklisted("This address cannot be added to any member's contacts")
    contact, created = None, False
    existing = _same_email_contact(store, member.id, email_hash)
    if not (existing and existing[0].status == "active"):
        try:
            contact = service.create(store=store, brand=brand, member=member, data=contact_data,
                                     source=ContactSource.BRAND_SYNC, hasher=hasher, now=now,
                                     params=sources.SourceInput(imported_opt_in=data.opt_in))
            created = True
        except service.ContactExists:
            # Created meanwhile by a concurrent call (another record, an order): that contact is this person.
            existing = _same_email_contact(store, member.id, email_hash)
            if not (existing and existing[0].status == "active"):
                raise
    if contact is None and existing is not None:
        # The member already has this person (another source): the record now names that contact.
        contact = _update(store=store, events=events, brand=brand, contact=existing[0], etag=existing[1], data=data,
                          hasher=hasher, now=now)
    if found:
        # The brand deleted the record, then sent it again: a new contact, the key re-pointed.
        repository.release_key(store=store, kind=EXTERNAL_KEY, hashed=key, owner_id=found[0].id)
    if not repository.claim_key(store=store, kind=EXTERNAL_KEY, hashed=key, owner_id=contact.id, owner_type="contact"):
        # Two calls raced: the first one's contact stands, ours is withdrawn.
        if created:
            store.delete(service.CONTACTS, contact.id)
        winner = mapped_contact(store=store, hasher=hasher, external_id=external_id)
        if winner is None:
            raise Conflict("The contact changed during the call; try again")
        return winner[0], False
    log.info("contact %s synchronised for member %s (created=%s)", contact.id, member.id, created)
    return contact, created


def delete(*, store: BrandStore, journal: Journal, external_id: str, hasher: service.Hasher, now: datetime) -> Contact:
    """The brand deleted its record: the contact is hashed (guide, "Contacts retention"); again is a no-op."""
    found = mapped_contact(store=store, hasher=hasher, external_id=external_id)
    if found is None:
        raise NotFound("No contact for this external id")
    contact, etag = found
    if contact.status != "active":
        return contact
    stored = contact_journal.erase_and_store(store=store, journal=journal, contact=contact, etag=etag, now=now,
                                             rule=contact_journal.DELETED_BY_BRAND_SYNC)
    log.info("contact %s erased by brand sync", contact.id)
    return service.from_document(stored)[0]

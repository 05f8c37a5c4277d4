"""Contacts of a member: create (through a source), read, edit, erase; the brand's view of them.

Every creation and every send checks the brand's black list, so a person who opted out of all
members (or whose address the provider refused for good) cannot be re-entered by anyone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.brands.models import Brand, Scenario
from shared.crm import blacklist, consent, sources
from shared.crm.consent import ConsentState, Meaning, MemberOptIn, Purpose
from shared.crm.contact_schedule import home_block
from shared.crm.models import (
    BLOCKING_EMAIL_STATUSES,
    CONTACTS,
    Capture,
    ChangeHistory,
    Contact,
    ContactSource,
    EmailStatus,
)
from shared.crm.views import ContactCreate, ContactUpdate
from shared.emails.address import checked_email
from shared.errors import Conflict, InvalidInput, NotFound
from shared.gdpr import restriction
from shared.identity.models import Member
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, Filter, Page

Hasher = Callable[[str, str], str]
# Slots of a member's email key: a contact whose email was edited keeps its id, so the next contact
# with its old address takes the next slot (see `_insert`); more than a few edits back and forth is absurd.
_EMAIL_SLOTS = 8
log = logging.getLogger(__name__)


class ContactExists(Conflict):
    """The member already has a contact with this address (the problem type stays the plain `conflict`)."""

    title = "This contact is already in your CRM"


class ContactRestricted(Conflict):
    code = "contact-restricted"
    title = "This contact restricted the processing of their data (GDPR article 18): it is kept, not changed"


class ContactBlacklisted(Conflict):
    code = "contact-blacklisted"
    title = "This person opted out of the brand's members or their address was refused: it cannot be added"


# --- documents -------------------------------------------------------------------------------------


def to_document(contact: Contact, brand: Brand) -> dict[str, Any]:
    """The stored form (camelCase), with the retention block its lifecycle rule schedules."""
    doc = contact.model_dump(mode="json", by_alias=True)
    doc["retention"] = home_block(doc, brand)
    doc["brandVisible"] = visible_to_brand(contact)  # indexed: the Manager's list filters on it
    return doc


def erased_document(contact: Contact) -> dict[str, Any]:
    """The stored form of an erased contact, which needs no brand: no rule schedules it, no one sees it."""
    return {**contact.model_dump(mode="json", by_alias=True), "retention": {}, "brandVisible": False}


def from_document(doc: dict[str, Any]) -> tuple[Contact, str | None]:
    """A contact and the etag it was read at."""
    skip = {"brandId", "retention", "brandVisible"}
    fields = {key: value for key, value in doc.items() if not key.startswith("_") and key not in skip}
    return Contact.model_validate(fields), doc.get("_etag")


# --- member side -----------------------------------------------------------------------------------


def pending_confirmation(contact: Contact) -> bool:
    """Contacts waiting for their email confirmation are stored but shown to nobody."""
    return contact.member_opt_in == MemberOptIn.OPT_IN_BLOG_PENDING


def email_hidden(contact: Contact) -> bool:
    """An opted-out contact's email is hidden to the member (guide, "Contacts opted-out")."""
    return consent.member_meaning(contact.member_opt_in) == Meaning.OPTED_OUT


def _check_fields(brand: Brand, contact_type: object) -> None:
    if contact_type is not None and brand.scenario != Scenario.DIRECT_SELLING:
        raise InvalidInput("Contact types are only used in the direct-selling scenario",
                           errors=[{"field": "contactType", "message": "only in the direct-selling scenario"}])


def create(
    *, store: BrandStore, brand: Brand, member: Member, data: ContactCreate, source: ContactSource, hasher: Hasher,
    now: datetime, params: sources.SourceInput | None = None, consent_state: ConsentState | None = None,
    capture: Capture | None = None,
) -> Contact:
    """A new contact of `member`, its opt-ins given by `source`; refused when blacklisted or already there.

    A form awaiting its email confirmation passes its own `consent_state` and the `capture` it records.
    """
    if not data.filled():
        raise InvalidInput("At least one field must be filled",
                           errors=[{"field": "body", "message": "empty contact"}])
    _check_fields(brand, data.contact_type)
    state = consent_state or sources.initial_consent(source, brand=brand, member_role=member.role,
                                                     params=params or sources.SourceInput(), now=now)
    email_hash = hasher("email", data.email) if data.email else None
    if blacklist.is_blocked(store=store, email_hash=email_hash):
        raise ContactBlacklisted("This address cannot be added to any member's contacts")
    # Contacts stored before keyed ids (random ids), and those whose email was edited, are found by query.
    if email_hash and any(holds_address(doc) for doc in store.query(
            CONTACTS, filters=[Filter("memberId", "=", member.id), Filter("emailHash", "=", email_hash)],
            page_size=_EMAIL_SLOTS).items):
        raise ContactExists("This contact is already in your CRM")
    contact = Contact(
        id=_contact_id(hasher, member.id, email_hash, 0), member_id=member.id, email_hash=email_hash,
        customer_id_hash=hasher("customer_id", data.customer_id) if data.customer_id else None,
        email_status=EmailStatus.NOT_VERIFIED if state.member == MemberOptIn.OPT_IN_BLOG_PENDING else EmailStatus.VALID,
        history=ChangeHistory(created_by=source, created_at=now), recorded_at=now,
        member_opt_in=state.member, brand_opt_in=state.brand, capture=capture,
        **data.model_dump(exclude_none=True, exclude={"address"}),
        address=data.address or {},
    ).with_consent(state)
    contact = _insert(store, brand, hasher, contact)
    log.info("contact %s created by member %s from %s", contact.id, member.id, source.value)
    return contact


def _contact_id(hasher: Hasher, member_id: str, email_hash: str | None, slot: int) -> str:
    """A contact's id: random without an email, else keyed by member and address, so the store refuses a twin."""
    if email_hash is None:
        return f"ct-{uuid.uuid4().hex}"
    keyed = hasher("member", f"contact:{member_id}:{email_hash}")[:32]
    return f"ct-{keyed}" if slot == 0 else f"ct-{keyed}-{slot}"


def _insert(store: BrandStore, brand: Brand, hasher: Hasher, contact: Contact) -> Contact:
    """Create the contact; with an email, its keyed id makes concurrent twins lose the create (409)."""
    slot = 0
    for _ in range(_EMAIL_SLOTS * 2):
        try:
            store.create(CONTACTS, to_document(contact, brand))
            return contact
        except DocumentConflict:
            if contact.email_hash is None:
                raise
        holder = store.find(CONTACTS, contact.id)
        if holder is None:
            continue  # withdrawn meanwhile (a lost brand-sync race): the slot is free again
        if holder.get("emailHash") == contact.email_hash and holds_address(holder):
            raise ContactExists("This contact is already in your CRM")
        # The slot's contact changed its address since it was created, or was erased without ever
        # confirming it: the next slot is this address's.
        slot += 1
        if slot == _EMAIL_SLOTS:
            break
        contact = contact.model_copy(update={"id": _contact_id(hasher, contact.member_id, contact.email_hash, slot)})
    raise ContactExists("This contact is already in your CRM")


def holds_address(doc: dict[str, Any]) -> bool:
    """Whether a stored contact keeps its address from being entered again for its member.

    An erased contact that never confirmed its address (a form's, hashed after the pending period)
    was never anyone's contact: the person may leave the address again. Every other contact,
    erased ones included, keeps its hash for the opt-out checks.
    """
    return not (doc.get("status") == "erased" and doc.get("memberOptIn") == MemberOptIn.OPT_IN_BLOG_PENDING.value)


def load(*, store: BrandStore, contact_id: str) -> tuple[Contact, str | None]:
    try:
        return from_document(store.get(CONTACTS, contact_id))
    except DocumentNotFound as exc:
        raise NotFound("Contact not found") from exc


def by_address(*, store: BrandStore, member_id: str, email_hash: str) -> tuple[Contact, str | None] | None:
    """The member's active contact with this address (pending confirmation or not) and its etag, or None."""
    page = store.query(CONTACTS, filters=[Filter("memberId", "=", member_id), Filter("emailHash", "=", email_hash)],
                       page_size=_EMAIL_SLOTS)
    return next((from_document(doc) for doc in page.items if doc.get("status") == "active"), None)


def get_own(*, store: BrandStore, member_id: str, contact_id: str) -> tuple[Contact, str | None]:
    """A contact of this member that the member may see; another member's, erased or pending answers 404."""
    contact, etag = load(store=store, contact_id=contact_id)
    if contact.member_id != member_id or contact.status != "active" or pending_confirmation(contact):
        raise NotFound("Contact not found")
    return contact, etag


def list_own(
    *, store: BrandStore, member_id: str, page_size: int, continuation: str | None
) -> tuple[list[Contact], str | None]:
    """One page of the member's visible contacts (a page may hold fewer after hiding pending ones)."""
    page: Page = store.query(CONTACTS, filters=[Filter("memberId", "=", member_id)], page_size=page_size,
                             continuation=continuation)
    contacts = [from_document(doc)[0] for doc in page.items]
    return [c for c in contacts if c.status == "active" and not pending_confirmation(c)], page.continuation


def update(
    *, store: BrandStore, brand: Brand, member: Member, contact_id: str, changes: ContactUpdate, hasher: Hasher,
    now: datetime,
) -> Contact:
    """Edit the member's own contact (opt-ins are never edited here); a new email is checked like a creation."""
    contact, etag = get_own(store=store, member_id=member.id, contact_id=contact_id)
    if restriction.contact_restricted(store=store, email_hash=contact.email_hash):
        raise ContactRestricted("This contact asked that their data be kept unchanged and unused")
    fields = changes.model_dump(exclude_unset=True)
    _check_fields(brand, fields.get("contact_type"))
    update_fields: dict[str, Any] = {k: v for k, v in fields.items() if k != "address"}
    if "address" in fields:
        address = contact.address.model_dump()
        address.update(changes.address.model_dump(exclude_unset=True) if changes.address else {})
        update_fields["address"] = type(contact.address).model_validate(address)
    if "email" in fields:
        email_hash = hasher("email", changes.email) if changes.email else None
        if email_hash != contact.email_hash and blacklist.is_blocked(store=store, email_hash=email_hash):
            raise ContactBlacklisted("This address cannot be added to any member's contacts")
        update_fields["email_hash"] = email_hash
    if "customer_id" in fields:
        update_fields["customer_id_hash"] = hasher("customer_id", changes.customer_id) if changes.customer_id else None
    updated = contact.model_copy(update={
        **update_fields, "history": contact.history.model_copy(update={"modified_by": member.id, "modified_at": now}),
    })
    if not _has_content(updated):
        raise InvalidInput("At least one field must stay filled",
                           errors=[{"field": "body", "message": "empty contact"}])
    store.replace(CONTACTS, to_document(Contact.model_validate(updated.model_dump()), brand), etag=etag)
    return updated


def _has_content(contact: Contact) -> bool:
    return any([contact.first_name, contact.last_name, contact.email, contact.customer_id, contact.notes,
                contact.tags, contact.address.city, contact.address.postal_code, contact.address.country])


def erase(contact: Contact, now: datetime, by: str) -> Contact:
    """The contact deleted the guide's way: hashes, city and postal code, counters and sales kept; the rest erased.

    Pure: writers call `shared.crm.contact_journal.erase_and_store`, which journals the erasure first.
    """
    return contact.model_copy(update={
        "status": "erased", "first_name": None, "last_name": None, "email": None, "customer_id": None,
        "notes": None, "tags": [], "contact_type": None,
        "address": contact.address.model_copy(update={"country": None}),
        "history": contact.history.model_copy(update={"modified_by": by, "modified_at": now}),
    })


# --- consent actions and sending -------------------------------------------------------------------


def has_address(contact: Contact) -> bool:
    """Whether the contact's email can be written to (one stored before the email type may not be an address)."""
    return contact.email is not None and checked_email(contact.email) is not None


def may_send(*, store: BrandStore, contact: Contact, purpose: Purpose) -> bool:
    """Whether an email of `purpose` may go to this contact now: an address, consent, email status, black list
    and no restriction of processing (GDPR article 18)."""
    if contact.status != "active" or not has_address(contact) or pending_confirmation(contact):
        return False
    if restriction.contact_restricted(store=store, email_hash=contact.email_hash):
        return False
    blocked = contact.email_status in BLOCKING_EMAIL_STATUSES or blacklist.is_blocked(store=store,
                                                                                      email_hash=contact.email_hash)
    if purpose != "invitation" and contact.email_status == EmailStatus.NOT_VERIFIED:
        blocked = True
    return consent.may_send(contact.consent, purpose, email_blocked=blocked)


# --- brand side ------------------------------------------------------------------------------------


def visible_to_brand(contact: Contact) -> bool:
    """Manager users see only active contacts with a brand opt-in that are not pending confirmation."""
    return contact.status == "active" and consent.visible_to_brand(contact.brand_opt_in) and not pending_confirmation(
        contact)


def brand_get(*, store: BrandStore, contact_id: str) -> Contact:
    """A contact the brand may read; without brand opt-in, or restricted, it does not exist for the brand (404)."""
    contact, _ = load(store=store, contact_id=contact_id)
    if not visible_to_brand(contact) or restriction.contact_restricted(store=store, email_hash=contact.email_hash):
        raise NotFound("Contact not found")
    return contact


def brand_list(*, store: BrandStore, page_size: int, continuation: str | None) -> tuple[list[Contact], str | None]:
    """One page of the brand's contacts it may see (a brand opt-in shown to it, active, confirmed, not restricted)."""
    page = store.query(CONTACTS, filters=[Filter("brandVisible", "=", True)], page_size=page_size,
                       continuation=continuation)
    contacts = [from_document(doc)[0] for doc in page.items]
    restricted = restriction.restricted_email_hashes(store=store)
    # The stored flag is written with every change; the check here keeps a stale document out regardless.
    return [c for c in contacts if visible_to_brand(c) and c.email_hash not in restricted], page.continuation

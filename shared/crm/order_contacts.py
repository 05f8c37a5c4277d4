"""Contacts from sales (guide, "Contacts collection" 6 and 7): created during an order, checked at a store purchase.

Only the contact side: orders, amounts and commissions are another module's (shared/sales). An
order id is a unique key (kind "contact_order", keyed hash) naming the contact it created, so the
same order sent twice gives one contact. A store purchase names its contact by the code of the
voucher the member issued for it (shared/crm/vouchers.py), or by the contact's id.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.crm import service, sources, vouchers
from shared.crm.brand_sync import resolve_member
from shared.crm.models import Contact, ContactSource
from shared.crm.views import ContactCreate, MemberRef, OrderCustomer
from shared.errors import Conflict, NotFound
from shared.identity import repository
from shared.ports.store import BrandStore, DocumentNotFound

ORDER_KEY = "contact_order"
log = logging.getLogger(__name__)


class OrderContact(MemberRef):
    """An order placed after a member's publication: the member, the order id, the customer, the brand opt-in."""

    order_id: str = Field(alias="orderId", min_length=1, max_length=100)
    customer: OrderCustomer
    # The guide's "Brand opt-in parameter" of this call; absent: the brand's setting (unset means false).
    brand_opt_in: bool | None = Field(None, alias="brandOptIn")


class StorePurchase(BaseModel):
    """A purchase in a store with a member's voucher: the contact named by voucher code or by id."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    voucher_code: str | None = Field(None, alias="voucherCode", min_length=1, max_length=100)
    contact_id: str | None = Field(None, alias="contactId", min_length=1, max_length=100)
    # The purchase about to use the voucher: a voucher it already used is still its own.
    purchase_id: str | None = Field(None, alias="purchaseId", max_length=100)

    @model_validator(mode="after")
    def _one_contact(self) -> StorePurchase:
        if (self.voucher_code is None) == (self.contact_id is None):
            raise ValueError("give exactly one of voucherCode or contactId")
        return self


def _order_hash(hasher: service.Hasher, order_id: str) -> str:
    return hasher("customer_id", f"order:{order_id}")


def _load(store: BrandStore, contact_id: str) -> Contact | None:
    try:
        return service.from_document(store.get(service.CONTACTS, contact_id))[0]
    except DocumentNotFound:
        return None


def _member_contact_by_email(store: BrandStore, member_id: str, email_hash: str | None) -> Contact | None:
    found = service.by_address(store=store, member_id=member_id, email_hash=email_hash) if email_hash else None
    return found[0] if found else None


def from_order(*, store: BrandStore, brand: Brand, data: OrderContact, hasher: service.Hasher,
               now: datetime) -> tuple[Contact, bool]:
    """The member's contact for this order: created with the order rule, or the one already there (False)."""
    member = resolve_member(store=store, hasher=hasher, ref=data)
    key = _order_hash(hasher, data.order_id)
    known = repository.owner_of(store=store, kind=ORDER_KEY, hashed=key)
    if known and (contact := _load(store, known)) is not None:
        return contact, False
    try:
        customer = ContactCreate.model_validate(data.customer.model_dump(exclude_none=True))
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    email_hash = hasher("email", customer.email) if customer.email else None
    existing = _member_contact_by_email(store, member.id, email_hash)
    if existing is not None:
        # A person already in the member's CRM keeps the consent they gave: an order never lowers it.
        contact, created = existing, False
    else:
        # The call's brand opt-in parameter decides; when absent, the brand's own setting (unset: false).
        rule_brand = brand if data.brand_opt_in is None else brand.model_copy(
            update={"brand_opt_in": data.brand_opt_in})
        try:
            contact = service.create(store=store, brand=rule_brand, member=member, data=customer,
                                     source=ContactSource.ORDER, hasher=hasher, now=now)
            created = True
        except service.ContactExists:
            # Created meanwhile (another order of this person, the member): that contact is theirs.
            if (contact := _member_contact_by_email(store, member.id, email_hash)) is None:
                raise
            created = False
    if not repository.claim_key(store=store, kind=ORDER_KEY, hashed=key, owner_id=contact.id, owner_type="contact"):
        # The same order arrived twice at once: the first call's contact stands.
        if created:
            store.delete(service.CONTACTS, contact.id)
        winner = repository.owner_of(store=store, kind=ORDER_KEY, hashed=key)
        contact_won = _load(store, winner) if winner else None
        if contact_won is None:
            raise Conflict("The order changed during the call; try again")
        return contact_won, False
    log.info("contact %s from order for member %s (created=%s)", contact.id, member.id, created)
    return contact, created


def visible_contact(*, store: BrandStore, member_id: str, contact_id: str | None) -> str | None:
    """`contact_id` when the member still sees that contact (the CRM may have moved, erased or not confirmed it)."""
    if contact_id is None:
        return None
    try:
        service.get_own(store=store, member_id=member_id, contact_id=contact_id)
    except NotFound:
        return None
    return contact_id


def store_purchase(*, store: BrandStore, data: StorePurchase, hasher: service.Hasher, now: datetime) -> Contact:
    """The contact a store purchase names; it must still be opted in with its member (409 otherwise).

    By voucher code, the voucher must be usable now by this purchase: unknown 404, used by another
    purchase 409, expired 410 (shared.crm.vouchers.check).
    """
    if data.voucher_code is not None:
        voucher, _ = vouchers.find(store=store, hasher=hasher, code=data.voucher_code)
        return vouchers.check(store=store, voucher=voucher, reference=data.purchase_id, placed_at=now)
    contact = _load(store, data.contact_id or "")
    if contact is None or contact.status != "active":
        raise NotFound("No contact has this id")
    sources.store_purchase(contact.consent)
    return contact

"""Contacts from the brand's platform: database synchronisation, orders, store purchases (signed calls)."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Response, status
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.integration_auth import SignedBrand
from functions.http_api.problems import other_success, problem_responses
from shared.crm import brand_sync, order_contacts
from shared.crm.consent import BrandOptIn, MemberOptIn
from shared.crm.models import Contact
from shared.identity.models import CamelModel

router = APIRouter()
_TAGS: list[str | Enum] = ["integrations: contacts"]
BASE = "/api/v1/integrations/{brand_id}"


class IntegrationContactRead(CamelModel):
    """What the brand platform gets back: ids and opt-in values, no personal data echoed."""

    contact_id: str
    member_id: str
    status: str
    member_opt_in: MemberOptIn
    brand_opt_in: BrandOptIn
    created: bool = Field(False, description="True when this call created the contact")


def _read(contact: Contact, created: bool = False) -> IntegrationContactRead:
    return IntegrationContactRead(contact_id=contact.id, member_id=contact.member_id, status=contact.status,
                                  member_opt_in=contact.member_opt_in, brand_opt_in=contact.brand_opt_in,
                                  created=created)


@router.put(f"{BASE}/contacts/{{external_id}}", tags=_TAGS, response_model=IntegrationContactRead,
            responses={**problem_responses(401, 403, 404, 409, 422),
                       **other_success(201, IntegrationContactRead, "The contact was created now")},
            **access("integration"))
def sync_contact(external_id: str, data: brand_sync.SyncedContact, call: SignedBrand, container: ContainerDep,
                 response: Response) -> IntegrationContactRead:
    """Create (201) or update (200) the member's contact for the brand database record `external_id`."""
    brand_id = call.brand.id
    contact, created = brand_sync.upsert(store=container.store.for_brand(brand_id), events=container.events,
                                         brand=call.brand,
                                         external_id=external_id, data=data, hasher=container.hasher(brand_id),
                                         now=container.clock.now())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _read(contact, created)


@router.delete(f"{BASE}/contacts/{{external_id}}", tags=_TAGS, status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404), **access("integration"))
def delete_contact(external_id: str, call: SignedBrand, container: ContainerDep) -> Response:
    """The brand deleted its record: the contact is hashed (its hashes, city and postal code kept)."""
    brand_id = call.brand.id
    brand_sync.delete(store=container.store.for_brand(brand_id), journal=container.journal(brand_id),
                      external_id=external_id, hasher=container.hasher(brand_id), now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{BASE}/orders/contacts", tags=_TAGS, response_model=IntegrationContactRead,
             responses={**problem_responses(401, 404, 409, 422),
                        **other_success(201, IntegrationContactRead, "The contact was created now")},
             **access("integration"))
def order_contact(data: order_contacts.OrderContact, call: SignedBrand, container: ContainerDep,
                  response: Response) -> IntegrationContactRead:
    """The customer of an order becomes the member's contact (201), once per order id (200 afterwards)."""
    brand_id = call.brand.id
    contact, created = order_contacts.from_order(store=container.store.for_brand(brand_id), brand=call.brand,
                                                 data=data, hasher=container.hasher(brand_id),
                                                 now=container.clock.now())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _read(contact, created)


@router.post(f"{BASE}/store-purchases/contacts", tags=_TAGS, response_model=IntegrationContactRead,
             responses=problem_responses(401, 404, 409, 410, 422), **access("integration"))
def store_purchase_contact(data: order_contacts.StorePurchase, call: SignedBrand,
                           container: ContainerDep) -> IntegrationContactRead:
    """The contact a voucher (or a contact id) names, before the purchase is posted; nothing is written.

    409 `contact-not-opted-in` unless the contact is still opted in with the member; by voucher code,
    404 `voucher-not-found`, 409 `voucher-used` (by another purchase than `purchaseId`), 410 `voucher-expired`.
    """
    brand_id = call.brand.id
    contact = order_contacts.store_purchase(store=container.store.for_brand(brand_id), data=data,
                                            hasher=container.hasher(brand_id), now=container.clock.now())
    return _read(contact)

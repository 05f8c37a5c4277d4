"""App API: the member's CRM — their own contacts only (another member's answers 404)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from shared.brands import service as brands
from shared.crm import contact_journal, email_status
from shared.crm import service as contacts
from shared.crm.models import ContactSource
from shared.crm.views import ContactCreate, ContactRead, ContactUpdate, to_member_read

router = APIRouter(prefix="/api/v1/app/{brand_id}/contacts", tags=["app: contacts"])


class ContactPage(BaseModel):
    items: list[ContactRead]
    continuation: str | None = None


@router.get("", response_model=ContactPage, responses=problem_responses(401, 404, 422), **access("member"))
def list_contacts(
    brand_id: str,
    member: CurrentMember,
    container: ContainerDep,
    paging: PagingQuery,
) -> ContactPage:
    """The calling member's contacts, one page at a time (pending confirmations hidden)."""
    items, token = contacts.list_own(store=container.store.for_brand(brand_id), member_id=member.id,
                                     page_size=paging.page_size,
                                     continuation=paging.continuation)
    return ContactPage(items=[to_member_read(contact) for contact in items], continuation=token)


@router.post(
    "", response_model=ContactRead, status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422), **access("member"),
)
def create_contact(brand_id: str, body: ContactCreate, member: CurrentMember, container: ContainerDep) -> ContactRead:
    """Enter a contact by hand (deprecated in v4: 403 unless the brand enabled manual entry)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    contact = contacts.create(store=container.store.for_brand(brand_id), brand=brand, member=member, data=body,
                              source=ContactSource.MANUAL, hasher=container.hasher(brand_id),
                              now=container.clock.now())
    return to_member_read(contact)


@router.get("/{contact_id}", response_model=ContactRead, responses=problem_responses(401, 404), **access("member"))
def get_contact(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep) -> ContactRead:
    """One of the calling member's contacts."""
    contact, _ = contacts.get_own(store=container.store.for_brand(brand_id), member_id=member.id, contact_id=contact_id)
    return to_member_read(contact)


@router.patch(
    "/{contact_id}", response_model=ContactRead, responses=problem_responses(401, 404, 409, 422), **access("member")
)
def update_contact(
    brand_id: str, contact_id: str, changes: ContactUpdate, member: CurrentMember, container: ContainerDep
) -> ContactRead:
    """Edit one of the member's contacts (opt-ins are not editable by hand)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    contact = contacts.update(store=container.store.for_brand(brand_id), brand=brand, member=member,
                              contact_id=contact_id, changes=changes, hasher=container.hasher(brand_id),
                              now=container.clock.now())
    return to_member_read(contact)


@router.delete(
    "/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 404, 409),
    **access("member"),
)
def delete_contact(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep) -> Response:
    """Delete one of the member's contacts: erased, its hashes kept so an opt-out still holds."""
    contact_journal.delete_own(store=container.store.for_brand(brand_id), journal=container.journal(brand_id),
                               member=member, contact_id=contact_id, now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{contact_id}/email-status/release", response_model=ContactRead, responses=problem_responses(401, 404, 409),
    **access("member"),
)
def release_email_status(brand_id: str, contact_id: str, member: CurrentMember, container: ContainerDep) -> ContactRead:
    """Release a soft bounce of one of the member's contacts (any other email status: 409)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    contact = email_status.release(store=container.store.for_brand(brand_id), brand=brand, member=member,
                                   contact_id=contact_id, now=container.clock.now())
    return to_member_read(contact)

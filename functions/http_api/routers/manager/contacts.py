"""Manager API: the brand's contacts — only those with a brand opt-in exist for the brand."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from shared.crm import service as contacts
from shared.crm.views import ManagerContactRead, to_manager_read

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}/contacts", tags=["manager: contacts"])


class ManagerContactPage(BaseModel):
    items: list[ManagerContactRead]
    continuation: str | None = None


@router.get("", response_model=ManagerContactPage, responses=problem_responses(401, 403, 404, 422),
            **access("manager"))
def list_brand_contacts(
    brand: ManagedBrand,
    container: ContainerDep,
    paging: PagingQuery,
) -> ManagerContactPage:
    """The brand's contacts with a brand opt-in, one page at a time (others are hidden)."""
    items, token = contacts.brand_list(store=container.store.for_brand(brand.id), page_size=paging.page_size,
                                       continuation=paging.continuation)
    return ManagerContactPage(items=[to_manager_read(contact) for contact in items], continuation=token)


@router.get("/{contact_id}", response_model=ManagerContactRead, responses=problem_responses(401, 403, 404),
            **access("manager"))
def get_brand_contact(brand: ManagedBrand, contact_id: str, container: ContainerDep) -> ManagerContactRead:
    """One contact with a brand opt-in; any other answers 404."""
    return to_manager_read(contacts.brand_get(store=container.store.for_brand(brand.id), contact_id=contact_id))

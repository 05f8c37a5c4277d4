"""Manager API: the brand's share links — see which links members share, stop an abusive one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import ShortPagingQuery
from functions.http_api.problems import problem_responses
from popsell.bootstrap import Container
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import links, redirect
from shared.tracking.links import BrandLink, DisabledBy, LinkStatus, Target
from shared.tracking.models import Source

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}/links", tags=["manager: links"])


class ManagerLinkRead(BaseModel):
    """A share link as the brand sees it (`disabledBy` while the brand keeps it disabled)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    code: str
    short_url: str = Field(alias="shortUrl")
    member_id: str = Field(alias="memberId")
    source: Source
    target: Target
    status: LinkStatus
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    disabled_by: DisabledBy | None = Field(None, alias="disabledBy")


class ManagerLinkPage(BaseModel):
    items: list[ManagerLinkRead]
    continuation: str | None = None


def _read(container: Container, link: BrandLink) -> ManagerLinkRead:
    return ManagerLinkRead(
        id=link.id, code=link.code, short_url=links.short_url(container.settings.public_base_url, link.code),
        member_id=link.member_id, source=link.source, target=link.target, status=link.status,
        created_at=link.created_at, updated_at=link.updated_at, disabled_by=link.disabled_by)


@router.get("", response_model=ManagerLinkPage,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def list_brand_links(
    brand: ManagedBrand,
    container: ContainerDep,
    paging: ShortPagingQuery,
    member_id: Annotated[str | None, Query(alias="memberId", min_length=1, max_length=120)] = None,
    status: Annotated[LinkStatus | None, Query(description="active or disabled")] = None,
) -> ManagerLinkPage:
    """The brand's share links, newest first, optionally of one member or one status, page by page."""
    items, token = links.list_for_brand(store=container.store.for_brand(brand.id), member_id=member_id, status=status,
                                        page_size=paging.page_size, continuation=paging.continuation)
    return ManagerLinkPage(items=[_read(container, link) for link in items], continuation=token)


@router.get("/{link_id}", response_model=ManagerLinkRead,
            responses=problem_responses(401, 403, 404), **access("manager", level="viewer"))
def get_brand_link(brand: ManagedBrand, link_id: str, container: ContainerDep) -> ManagerLinkRead:
    """One share link of the brand; another brand's answers 404."""
    return _read(container, links.get_for_brand(store=container.store.for_brand(brand.id), link_id=link_id))


@router.patch("/{link_id}", response_model=ManagerLinkRead,
              responses=problem_responses(401, 403, 404, 409, 422, 503), **access("manager", level="editor"))
def update_brand_link_status(brand: ManagedBrand, link_id: str, body: links.LinkStatusChange,
                             principal: ManagerPrincipal, container: ContainerDep) -> ManagerLinkRead:
    """Disable an abusive link (its member cannot re-enable it) or re-enable one the brand disabled."""
    link = links.set_status_by_brand(store=container.store.for_brand(brand.id),
                                     platform=container.store.for_brand(PLATFORM_SCOPE), link_id=link_id,
                                     status=body.status, manager_user_id=principal.subject,
                                     now=container.clock.now())
    # At once on this instance; other instances follow within the redirect's cache lifetime.
    redirect.for_container(container).forget(link.code)
    return _read(container, link)

"""App API: a member's share links and their QR codes (another member's link answers 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import PagingQuery
from functions.http_api.problems import problem_responses
from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.errors import NotFound
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import links, qr, redirect
from shared.tracking.links import Link, LinkCreate, LinkStatus, Target
from shared.tracking.models import Source

router = APIRouter(prefix="/api/v1/app/{brand_id}/links", tags=["app: links"])

# A code's short URL never changes, so its QR image never does: browsers may keep it (privately).
_QR_CACHE = "private, max-age=86400, immutable"


class QrUrls(BaseModel):
    png: str
    svg: str


class LinkRead(BaseModel):
    """A share link as its member sees it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    code: str
    short_url: str = Field(alias="shortUrl")
    source: Source
    target: Target
    status: LinkStatus
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    qr: QrUrls | None = None


class LinkPage(BaseModel):
    items: list[LinkRead]
    continuation: str | None = None


def _read(container: Container, brand_id: str, link: Link) -> LinkRead:
    base = container.settings.public_base_url.rstrip("/")
    qr_urls = None
    if link.source in links.QR_SOURCES:
        path = f"{base}/api/v1/app/{brand_id}/links/{link.id}"
        qr_urls = QrUrls(png=f"{path}/qr.png", svg=f"{path}/qr.svg")
    return LinkRead(id=link.id, code=link.code, short_url=links.short_url(base, link.code), source=link.source,
                    target=link.target, status=link.status, created_at=link.created_at,
                    updated_at=link.updated_at, qr=qr_urls)


@router.post("", response_model=LinkRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(401, 404, 422, 503), **access("member"))
def create_link(brand_id: str, body: LinkCreate, member: CurrentMember, container: ContainerDep) -> LinkRead:
    """Create a share link for a source and a target (URLs only on the brand's allowed domains)."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    link = links.create(store=container.store.for_brand(brand_id), platform=container.store.for_brand(PLATFORM_SCOPE),
                        brand=brand, member=member, data=body, now=container.clock.now(),
                        app_base_url=container.settings.app_base_url)
    return _read(container, brand_id, link)


@router.get("", response_model=LinkPage, responses=problem_responses(401, 404, 422), **access("member"))
def list_links(
    brand_id: str, member: CurrentMember, container: ContainerDep, paging: PagingQuery,
) -> LinkPage:
    """The calling member's links, newest first, one page at a time."""
    items, token = links.list_own(store=container.store.for_brand(brand_id), member_id=member.id,
                                  page_size=paging.page_size,
                                  continuation=paging.continuation)
    return LinkPage(items=[_read(container, brand_id, link) for link in items], continuation=token)


@router.get("/{link_id}", response_model=LinkRead, responses=problem_responses(401, 404), **access("member"))
def get_link(brand_id: str, link_id: str, member: CurrentMember, container: ContainerDep) -> LinkRead:
    """One of the calling member's links."""
    return _read(container, brand_id, links.get_own(store=container.store.for_brand(brand_id), member_id=member.id,
                                                    link_id=link_id))


@router.patch("/{link_id}", response_model=LinkRead, responses=problem_responses(401, 404, 409, 422),
              **access("member"))
def update_link_status(brand_id: str, link_id: str, body: links.LinkStatusChange, member: CurrentMember,
                       container: ContainerDep) -> LinkRead:
    """Disable or re-enable a link (other instances follow within the redirect's cache lifetime)."""
    link = links.set_status(store=container.store.for_brand(brand_id),
                            platform=container.store.for_brand(PLATFORM_SCOPE), member_id=member.id,
                            link_id=link_id, status=body.status, now=container.clock.now())
    redirect.for_container(container).forget(link.code)
    return _read(container, brand_id, link)


def _qr_link(container: Container, brand_id: str, member_id: str, link_id: str) -> str:
    link = links.get_own(store=container.store.for_brand(brand_id), member_id=member_id, link_id=link_id)
    if link.source not in links.QR_SOURCES:
        raise NotFound("This link has no QR code (its source is not a QR code)")
    return links.short_url(container.settings.public_base_url, link.code)


_Scale = Annotated[int, Query(ge=2, le=40, description="Pixels (PNG) or units (SVG) per module")]


@router.get("/{link_id}/qr.png", response_class=Response, responses={
    200: {"content": {qr.PNG: {}}, "description": "The QR code of the link's short URL"},
    **problem_responses(401, 404, 422)}, **access("member"))
def link_qr_png(brand_id: str, link_id: str, member: CurrentMember, container: ContainerDep,
                scale: _Scale = qr.DEFAULT_SCALE) -> Response:
    """The QR code of a QR-code or in-store link, as PNG."""
    url = _qr_link(container, brand_id, member.id, link_id)
    return Response(qr.png(url, scale=scale), media_type=qr.PNG, headers={"Cache-Control": _QR_CACHE})


@router.get("/{link_id}/qr.svg", response_class=Response, responses={
    200: {"content": {qr.SVG: {}}, "description": "The QR code of the link's short URL"},
    **problem_responses(401, 404, 422)}, **access("member"))
def link_qr_svg(brand_id: str, link_id: str, member: CurrentMember, container: ContainerDep,
                scale: _Scale = qr.DEFAULT_SCALE) -> Response:
    """The QR code of a QR-code or in-store link, as SVG."""
    url = _qr_link(container, brand_id, member.id, link_id)
    return Response(qr.svg(url, scale=scale), media_type=qr.SVG, headers={"Cache-Control": _QR_CACHE})

"""Member directory: list, search and map the brand's members, in the App (members) and the widget (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import paging_query
from functions.http_api.problems import problem_responses
from shared.bootstrap import Container
from shared.brands import service as brands
from shared.brands.models import Brand
from shared.errors import NotFound
from shared.identity import directory
from shared.identity.directory import (
    DirectoryMap,
    MatchMode,
    MemberDirectoryPage,
    SortOrder,
    View,
    VisitorDirectoryPage,
)

router = APIRouter(tags=["directory"])

Text = Annotated[str | None, Query(alias="q", max_length=80, description="Name search (accent-insensitive)")]
Match = Annotated[MatchMode, Query(description="prefix (default) or contains")]
City = Annotated[str | None, Query(max_length=100)]
Shop = Annotated[str | None, Query(alias="shopId", max_length=120, description="Home shop id")]
Sort = Annotated[SortOrder | None, Query(description="name (default), availability, or distance (needs near)")]
Near = Annotated[str | None, Query(description="lat,lon: sorts by distance from this point")]
Radius = Annotated[float | None, Query(alias="radiusKm", gt=0, le=20_000)]
# 20 members a page; a search continuation is bounded in length.
DirectoryPagingQuery = paging_query(default=20, largest=directory.MAX_PAGE_SIZE, longest_token=2000)
Bbox = Annotated[str, Query(description="minLat,minLon,maxLat,maxLon")]
Zoom = Annotated[int, Query(ge=0, le=directory.MAX_ZOOM)]


def _open_brand(container: Container, brand_id: str) -> Brand:
    brand = brands.get(store=container.store, brand_id=brand_id)
    if brand.status != "active":
        raise NotFound("Brand not found")
    return brand


def _search(container: Container, brand_id: str, view: View, **params):
    query = directory.make_query(**params)
    return directory.search(
        store=container.store.for_brand(brand_id), brand=_open_brand(container, brand_id), query=query, view=view,
        now=container.clock.now(), blobs=container.blobs,
    )


def _map(container: Container, brand_id: str, view: View, bbox: str, zoom: int) -> DirectoryMap:
    return directory.members_map(
        store=container.store.for_brand(brand_id), brand=_open_brand(container, brand_id),
        bbox=directory.parse_bbox(bbox), zoom=zoom, view=view, now=container.clock.now(),
    )


@router.get("/api/v1/app/{brand_id}/directory", response_model=MemberDirectoryPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_directory(
    brand_id: str, container: ContainerDep, paging: DirectoryPagingQuery, q: Text = None, match: Match = "prefix",
    city: City = None, shop_id: Shop = None, sort: Sort = None, near: Near = None, radius_km: Radius = None,
) -> MemberDirectoryPage:
    """Members of the brand: search by name, city or home shop; sort by name, availability or distance."""
    return _search(container, brand_id, "member", text=q, match=match, city=city, shop_id=shop_id, sort=sort,
                   near=near, radius_km=radius_km, page_size=paging.page_size, continuation=paging.continuation)


@router.get("/api/v1/app/{brand_id}/directory/map", response_model=DirectoryMap,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_directory_map(brand_id: str, container: ContainerDep, bbox: Bbox, zoom: Zoom) -> DirectoryMap:
    """Members inside a box, grouped by the zoom level's grid cells."""
    return _map(container, brand_id, "member", bbox, zoom)


@router.get("/api/v1/widget/{brand_id}/directory", response_model=VisitorDirectoryPage,
            responses=problem_responses(404, 422), **access("public"))
def widget_directory(
    brand_id: str, container: ContainerDep, paging: DirectoryPagingQuery, q: Text = None, match: Match = "prefix",
    city: City = None, shop_id: Shop = None, sort: Sort = None, near: Near = None, radius_km: Radius = None,
) -> VisitorDirectoryPage:
    """Members a website visitor may pick for a chat (visitor view: no position, distance in whole km)."""
    return _search(container, brand_id, "visitor", text=q, match=match, city=city, shop_id=shop_id, sort=sort,
                   near=near, radius_km=radius_km, page_size=paging.page_size, continuation=paging.continuation)


@router.get("/api/v1/widget/{brand_id}/directory/map", response_model=DirectoryMap,
            responses=problem_responses(404, 422), **access("public"))
def widget_directory_map(brand_id: str, container: ContainerDep, bbox: Bbox, zoom: Zoom) -> DirectoryMap:
    """Members inside a box, grouped by cells (visitor view: cell centres, zoom capped at 12)."""
    return _map(container, brand_id, "visitor", bbox, zoom)

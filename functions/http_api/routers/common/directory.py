"""The member directory's query parameters and calls, shared by the App's and the widget's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from functions.http_api.paging import paging_query
from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.brands.models import Brand
from shared.directory import service as directory
from shared.directory.models import DirectoryMap, MatchMode, SortOrder, View
from shared.errors import NotFound

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


def search_parameters(
    paging: DirectoryPagingQuery, q: Text = None, match: Match = "prefix", city: City = None, shop_id: Shop = None,
    sort: Sort = None, near: Near = None, radius_km: Radius = None,
) -> dict:
    """A directory search's query parameters, the same in the App and the widget."""
    return dict(text=q, match=match, city=city, shop_id=shop_id, sort=sort, near=near, radius_km=radius_km,
                page_size=paging.page_size, continuation=paging.continuation)


SearchParameters = Annotated[dict, Depends(search_parameters)]


def open_brand(container: Container, brand_id: str) -> Brand:
    brand = brands.get(store=container.store, brand_id=brand_id)
    if brand.status != "active":
        raise NotFound("Brand not found")
    return brand


def search(container: Container, brand_id: str, view: View, **params):
    query = directory.make_query(**params)
    return directory.search(
        store=container.store.for_brand(brand_id), brand=open_brand(container, brand_id), query=query, view=view,
        now=container.clock.now(), blobs=container.blobs,
    )


def members_map(container: Container, brand_id: str, view: View, bbox: str, zoom: int) -> DirectoryMap:
    return directory.members_map(
        store=container.store.for_brand(brand_id), brand=open_brand(container, brand_id),
        bbox=directory.parse_bbox(bbox), zoom=zoom, view=view, now=container.clock.now(),
    )

"""The member directory of a brand: list, search, sort and map its members, for the App and the widget.

Only members the projection marks `listed` (active, not hidden from the community) ever come out,
named by the brand's display-name policy, with the fields of one view: `member` (the App) or
`visitor` (the widget, which shows less). Name search matches the name the policy shows, never
the hidden part of a name. Why and how: docs/decisions/0009-member-directory.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from shared import json_input
from shared.brands.models import Brand
from shared.clock import isoformat
from shared.directory.models import (
    DirectoryMap,
    MapCluster,
    MatchMode,
    MemberDirectoryEntry,
    MemberDirectoryPage,
    SortOrder,
    View,
    VisitorDirectoryEntry,
    VisitorDirectoryPage,
)
from shared.errors import InvalidInput
from shared.identity.directory_index import (
    Rings,
    box_ranges,
    haversine_km,
    name_forms,
    sort_key,
)
from shared.identity.models import GeoPoint
from shared.json_input import MalformedJson
from shared.ports.blobs import CONTAINER_UGC, BlobStore
from shared.ports.store import BrandStore, Document, Filter

MEMBERS = "members"
MAX_PAGE_SIZE = 100
PHOTO_URL_TTL = timedelta(minutes=15)
# The widget is public: its map never resolves finer than cells of about 2 km.
WIDGET_MAX_ZOOM = 12
MAX_ZOOM = 20
_CHUNK = 1000
_PRESENCE_RANK = {"online": 0, "away": 1, "offline": 2}


@dataclass(frozen=True)
class DirectoryQuery:
    """One directory request, validated by `make_query`."""

    text: str | None = None
    match: MatchMode = "prefix"
    city: str | None = None
    shop_id: str | None = None
    sort: SortOrder = "name"
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    page_size: int = 20
    continuation: str | None = None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field, errors=[{"field": field, "message": message}])


def parse_point(text: str, field: str = "near") -> tuple[float, float]:
    """ "lat,lon" in degrees; 422 naming the field otherwise."""
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        raise _invalid(field, "expected lat,lon in degrees") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise _invalid(field, "latitude is within ±90 and longitude within ±180")
    return lat, lon


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """ "minLat,minLon,maxLat,maxLon"; a box across the antimeridian is refused (ask for two boxes)."""
    try:
        min_lat, min_lon, max_lat, max_lon = (float(part) for part in text.split(","))
    except ValueError:
        raise _invalid("bbox", "expected minLat,minLon,maxLat,maxLon") from None
    parse_point(f"{min_lat},{min_lon}", "bbox")
    parse_point(f"{max_lat},{max_lon}", "bbox")
    if min_lat > max_lat or min_lon > max_lon:
        raise _invalid("bbox", "the minimum corner must be south-west of the maximum corner")
    return min_lat, min_lon, max_lat, max_lon


def make_query(
    *,
    text: str | None = None,
    match: MatchMode = "prefix",
    city: str | None = None,
    shop_id: str | None = None,
    sort: SortOrder | None = None,
    near: str | None = None,
    radius_km: float | None = None,
    page_size: int = 20,
    continuation: str | None = None,
) -> DirectoryQuery:
    """A validated query: distance needs `near`, a radius needs `near`; `near` alone sorts by distance."""
    point = parse_point(near) if near else None
    order: SortOrder = sort or ("distance" if point else "name")
    if order == "distance" and point is None:
        raise _invalid("near", "sorting by distance needs near=lat,lon")
    if radius_km is not None and (point is None or order != "distance"):
        raise _invalid("radiusKm", "a radius needs near=lat,lon and the distance order")
    if radius_km is not None and not 0 < radius_km <= 20_000:
        raise _invalid("radiusKm", "the radius is between 0 and 20000 km")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _invalid("pageSize", f"pageSize is between 1 and {MAX_PAGE_SIZE}")
    return DirectoryQuery(
        text=sort_key(text) or None if text else None,
        match=match,
        city=sort_key(city) or None if city else None,
        shop_id=shop_id or None,
        sort=order,
        near=point,
        radius_km=radius_km,
        page_size=page_size,
        continuation=continuation,
    )


# -- continuation tokens: the sort key of the last entry served, bound to the query ---------------


def _fingerprint(brand: Brand, view: View, query: DirectoryQuery) -> str:
    parts = (brand.id, brand.display_name_policy, view, query.text, query.match, query.city, query.shop_id,
             query.sort, query.near, query.radius_km)
    return hashlib.blake2s(repr(parts).encode(), digest_size=6).hexdigest()


def _encode(fingerprint: str, key: tuple) -> str:
    raw = json.dumps([fingerprint, list(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(token: str, fingerprint: str, shape: tuple[type, ...]) -> tuple:
    try:
        issued_for, key = json_input.parse(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
    except (MalformedJson, ValueError, TypeError, binascii.Error):
        raise _invalid("continuation", "malformed continuation token") from None
    if issued_for != fingerprint:
        raise _invalid("continuation", "the continuation token belongs to another query")
    if not isinstance(key, list) or len(key) != len(shape) or not all(
        isinstance(value, kind) for value, kind in zip(key, shape, strict=True)
    ):
        raise _invalid("continuation", "malformed continuation token")
    return tuple(key)


# -- reading candidates --------------------------------------------------------------------------

# Candidates are read as their `directory` projection only: parsing whole member documents was
# most of the cost. The entries of the page served are then read whole (at most a page of them).
SCAN_FIELDS = ("directory",)
# A map reads at most this many members (shared among the box's blocks); past it the answer says
# `truncated` and the App asks to zoom in (docs/decisions/0009-member-directory.md).
MAP_READ_LIMIT = 5_000


def _pages(
    store: BrandStore, filters: list[Filter], order_by: str | None, first: int, limit: int | None = None
) -> Iterator[Document]:
    """Every matching projection, in store pages that grow: a caller that stops early read little."""
    continuation, size = None, min(first, limit or _CHUNK)
    while True:
        page = store.query(MEMBERS, filters=filters, order_by=order_by, page_size=size, continuation=continuation,
                           fields=SCAN_FIELDS)
        yield from page.items
        continuation, size = page.continuation, min(size * 2, _CHUNK)
        if continuation is None:
            return


def _after_in_order(
    store: BrandStore, filters: list[Filter], path: str, after: tuple | None, first: int
) -> Iterator[Document]:
    """Documents in (path, id) order strictly after `after`.

    One range read from the last key on, skipping what was served: the store's filters are AND-only,
    and a second read "key = last AND id > last id" may be planned on another index of the filters.
    """
    if after is None:
        yield from _pages(store, filters, path, first)
        return
    value, last_id = after
    for doc in _pages(store, [*filters, Filter(path, ">=", value)], path, first):
        key = doc
        for segment in path.split("."):
            key = key.get(segment) if isinstance(key, dict) else None
        if (key, doc["id"]) > (value, last_id):
            yield doc


def effective_availability(projection: dict[str, Any], now: datetime) -> str:
    """online / away until `availabilityUntil` (none: until changed); past it, offline."""
    stated = projection.get("availability") or "offline"
    until = projection.get("availabilityUntil")
    if stated in ("online", "away") and (until is None or until > isoformat(now)):
        return stated
    return "offline"


@dataclass
class _Search:
    """One directory request in progress."""

    store: BrandStore
    brand: Brand
    view: View
    query: DirectoryQuery
    now: datetime

    @property
    def policy(self) -> str:
        return self.brand.display_name_policy

    @property
    def name_path(self) -> str:
        """The indexed key of the order by name: the alias policy never sorts by real names."""
        return "directory.aliasName" if self.policy == "alias" else "directory.sortName"

    def display_name(self, doc: Document) -> str | None:
        return name_forms(doc.get("firstName"), doc.get("lastName"), doc.get("alias"))[self.policy]

    def name_key(self, projection: dict[str, Any]) -> str:
        return projection.get("aliasName" if self.policy == "alias" else "sortName") or ""

    def shown_key(self, doc: Document) -> str:
        """The search key of the name the policy shows (sortName and aliasName are exactly that)."""
        projection = doc["directory"]
        key = {"full_name": "sortName", "alias": "aliasName", "first_name_initial": "initialName"}[self.policy]
        if key in projection:
            return projection[key] or ""
        # A member saved before `initialName` existed: read the names themselves.
        whole = self.store.find(MEMBERS, doc["id"]) or {}
        return sort_key(self.display_name(whole) or "")

    def wanted(self, doc: Document) -> bool:
        """Listed, and matching the filters; the name matched is the one the policy shows."""
        projection = doc.get("directory") or {}
        query = self.query
        if not projection.get("listed"):
            return False
        if (query.city and projection.get("city") != query.city) or (
            query.shop_id and projection.get("shopId") != query.shop_id
        ):
            return False
        if query.text:
            shown = self.shown_key(doc)
            return shown.startswith(query.text) if query.match == "prefix" else query.text in shown
        return True

    def narrowing(self) -> list[Filter]:
        """The one indexed condition that cuts the read most (equality on city or shop)."""
        if self.query.city:
            return [Filter("directory.city", "=", self.query.city)]
        if self.query.shop_id:
            return [Filter("directory.shopId", "=", self.query.shop_id)]
        return []

    def name_prefix_filters(self) -> list[Filter]:
        """A range on the indexed name key that holds every name the policy shows with this prefix."""
        # "Jane D." is shown for "Jane Doe": the real-name range stops before the initial's dot.
        prefix = self.query.text if self.policy == "alias" else (self.query.text or "").split(".")[0]
        if not prefix or self.query.match != "prefix":
            return []
        return [Filter(self.name_path, ">=", prefix), Filter(self.name_path, "<", prefix + "\U0010ffff")]

    def by_name(self, extra: list[Filter], after: tuple | None,
                keep: Callable[[dict[str, Any]], bool] | None = None) -> Iterator[tuple[tuple, Document]]:
        """Wanted members in (name key, id) order after `after`, with their key; lazy."""
        filters = [*self.narrowing(), *self.name_prefix_filters(), *extra]
        for doc in _after_in_order(self.store, filters, self.name_path, after, first=self.query.page_size + 1):
            if (keep is None or keep(doc["directory"])) and self.wanted(doc):
                yield (self.name_key(doc["directory"]), doc["id"]), doc

    def page(self) -> tuple[list[tuple[Document, float | None]], str | None]:
        """The entries of this page (with their distance) and the next page's token."""
        fingerprint = _fingerprint(self.brand, self.view, self.query)
        token = self.query.continuation
        if self.query.sort == "distance":
            after = _decode(token, fingerprint, (float, str)) if token else None
            found, keys = self.nearest(after)
        elif self.query.sort == "name":
            after = _decode(token, fingerprint, (str, str)) if token else None
            chosen = list(islice(self.by_name([], after), self.query.page_size + 1))
            found, keys = [(doc, None) for _, doc in chosen], [key for key, _ in chosen]
        else:
            after = _decode(token, fingerprint, (int, str, str)) if token else None
            chosen = list(islice(self.by_availability(after), self.query.page_size + 1))
            found, keys = [(doc, None) for _, doc in chosen], [key for key, _ in chosen]
        size = self.query.page_size
        next_token = _encode(fingerprint, keys[size - 1]) if len(found) > size else None
        return found[:size], next_token

    def by_availability(self, after: tuple | None) -> Iterator[tuple[tuple, Document]]:
        """Online, away, then offline members, each by name, read through the availability index.

        A stated online/away past its `availabilityUntil` is offline: the online and away streams
        skip it, and the offline rank merges it (by name) with the members stated offline.
        """
        def stated(value: str, live: bool, start: tuple | None) -> Iterator[tuple[tuple, Document]]:
            return self.by_name([Filter("directory.availability", "=", value)], start,
                                keep=lambda p: (effective_availability(p, self.now) == value) == live)

        first_rank = after[0] if after else 0
        if not 0 <= first_rank < len(_PRESENCE_RANK):
            raise _invalid("continuation", "malformed continuation token")
        for rank in range(first_rank, len(_PRESENCE_RANK)):
            start = tuple(after[1:]) if after and rank == first_rank else None
            if rank < 2:
                streams = [stated(("online", "away")[rank], True, start)]
            else:
                streams = [stated("offline", True, start), stated("online", False, start),
                           stated("away", False, start)]
            for key, doc in heapq.merge(*streams, key=lambda pair: pair[0]):
                yield (rank, *key), doc

    def nearest(self, after: tuple | None) -> tuple[list, list]:
        """Rings around the point, each reading only new cells, until the page is certain."""
        lat, lon = self.query.near or (0.0, 0.0)
        radius = self.query.radius_km or math.inf
        rings = Rings(lat, lon, limit_km=radius)
        candidates: list[tuple[float, str, Document]] = []
        certain = 0
        while (ranges := rings.next(found=certain, wanted=self.query.page_size + 1)) is not None:
            for first, last in ranges:
                cell_filters = [Filter("directory.geoCell", ">=", first), Filter("directory.geoCell", "<=", last)]
                for doc in _pages(self.store, cell_filters, "directory.geoCell", _CHUNK):
                    if not self.wanted(doc):
                        continue
                    projection = doc["directory"]
                    distance = haversine_km(lat, lon, projection["lat"], projection["lon"])
                    if distance <= radius and (after is None or (distance, doc["id"]) > after):
                        candidates.append((distance, doc["id"], doc))
            # Enough entries nearer than anything unread: the page cannot change any more.
            certain = sum(c[0] <= rings.reach_km for c in candidates)
            if certain > self.query.page_size:
                break
        chosen = sorted((c for c in candidates if c[0] <= rings.reach_km),
                        key=lambda c: (c[0], c[1]))[: self.query.page_size + 1]
        return [(doc, distance) for distance, _, doc in chosen], [(distance, id) for distance, id, _ in chosen]


def _entry(doc: Document, search: _Search, blobs: BlobStore, distance: float | None):
    address = doc.get("address") or {}
    city = address.get("city")
    photo = doc.get("photoBlob")
    common = {
        "id": doc["id"],
        "display_name": search.display_name(doc),
        "city": city,
        "postal_code": None if city else address.get("postalCode"),
        "home_shop_id": doc.get("homeShopId"),
        "photo_url": blobs.signed_url(CONTAINER_UGC, photo, expires_in=PHOTO_URL_TTL) if photo else None,
        "availability": effective_availability(doc["directory"], search.now),
    }
    if search.view == "visitor":
        # Whole km, rounded up: a visitor cannot trilaterate a member's position from it.
        return VisitorDirectoryEntry(**common, distance_km=math.ceil(distance) if distance is not None else None)
    location = doc.get("location")
    return MemberDirectoryEntry(
        **common, location=GeoPoint(**location) if location else None,
        distance_km=round(distance, 3) if distance is not None else None,
    )


def search(
    *, store: BrandStore, brand: Brand, query: DirectoryQuery, view: View, now: datetime, blobs: BlobStore
) -> MemberDirectoryPage | VisitorDirectoryPage:
    """One page of the brand's directory, as `view` may see it."""
    run = _Search(store=store, brand=brand, view=view, query=query, now=now)
    found, continuation = run.page()
    items = []
    for projected, distance in found:
        # The page's members read whole; one who left or hid since the scan is not shown.
        doc = store.find(MEMBERS, projected["id"])
        if doc is not None and (doc.get("directory") or {}).get("listed"):
            items.append(_entry(doc, run, blobs, distance))
    page_type = VisitorDirectoryPage if view == "visitor" else MemberDirectoryPage
    return page_type(items=items, continuation=continuation)


def cell_degrees(zoom: int) -> float:
    """Cluster cell size of a zoom level: a quarter of a web-map tile (360° / 2^zoom / 4)."""
    return 360.0 / (2**zoom) / 4


def members_map(
    *, store: BrandStore, brand: Brand, bbox: tuple[float, float, float, float], zoom: int, view: View,
    now: datetime,
) -> DirectoryMap:
    """Listed members with a location inside the box, grouped in grid cells of the zoom level."""
    if not 0 <= zoom <= MAX_ZOOM:
        raise _invalid("zoom", f"zoom is between 0 and {MAX_ZOOM}")
    if view == "visitor":
        zoom = min(zoom, WIDGET_MAX_ZOOM)
    size = cell_degrees(zoom)
    min_lat, min_lon, max_lat, max_lon = bbox
    run = _Search(store=store, brand=brand, view=view, query=DirectoryQuery(), now=now)
    cells: dict[tuple[int, int], list[Document]] = {}
    ranges = box_ranges(*bbox)
    # The read budget is shared among the box's blocks, so a truncated map still covers the box.
    budget, truncated = max(1, MAP_READ_LIMIT // len(ranges)), False
    for first, last in ranges:
        cell_filters = [Filter("directory.geoCell", ">=", first), Filter("directory.geoCell", "<=", last)]
        read = 0
        for doc in _pages(store, cell_filters, "directory.geoCell", _CHUNK, limit=budget + 1):
            read += 1
            if read > budget:
                truncated = True
                break
            projection = doc.get("directory") or {}
            lat, lon = projection.get("lat"), projection.get("lon")
            if lat is None or not run.wanted(doc) or not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
                continue
            cells.setdefault((math.floor(lat / size), math.floor(lon / size)), []).append(doc)
    clusters = []
    for (row, col), docs in sorted(cells.items()):
        if view == "visitor":
            # The cell's centre, never a member's own point.
            lat, lon = (row + 0.5) * size, (col + 0.5) * size
        else:
            lat = sum(doc["directory"]["lat"] for doc in docs) / len(docs)
            lon = sum(doc["directory"]["lon"] for doc in docs) / len(docs)
        # A lone member is named: only those few are read whole.
        alone = store.find(MEMBERS, docs[0]["id"]) if len(docs) == 1 else None
        clusters.append(MapCluster(
            lat=round(lat, 6), lon=round(lon, 6), count=len(docs),
            member_id=docs[0]["id"] if len(docs) == 1 else None,
            display_name=run.display_name(alone) if alone else None,
        ))
    return DirectoryMap(zoom=zoom, cell_degrees=size, clusters=clusters, truncated=truncated)

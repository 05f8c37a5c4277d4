"""The member directory of a brand: list, search, sort and map its members, for the App and the widget.

Only members the projection marks `listed` (active, not hidden from the community) ever come out,
named by the brand's display-name policy, with the fields of one view: `member` (the App) or
`visitor` (the widget, which shows less). Name search matches the name the policy shows, never
the hidden part of a name. Why and how: docs/decisions/0009-member-directory.md, and for
the indexes each query reads, docs/decisions/0038-directory-indexes.md.
"""

from __future__ import annotations

import base64
import binascii
import bisect
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
from shared.directory import grid
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
    KEY_SEPARATOR,
    PREFIX_END,
    Nearest,
    box_ranges,
    geo_key_bounds,
    geo_key_point,
    haversine_km,
    key_part,
    live_prefix,
    name_forms,
    search_pattern,
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
# Every listing reads one key of `directory.keys`, set on listed members only: the key holds the
# order (name key, or a prefix and the name key) and ends with the id, so a page resumes with one
# range read after the last key served (docs/decisions/0038-directory-indexes.md).
KEYS = "directory.keys"
GEO_KEY = f"{KEYS}.geo"
# A map or a plain distance listing needs only the point, which the geo key holds.
GEO_FIELDS = (GEO_KEY,)
# A distance listing reads a block this many members at a time: a block holding more is split.
BLOCK_READ = 48
# A map reads at most this many members (shared among the box's blocks); past it the answer says
# `truncated` and the App asks to zoom in (docs/decisions/0009-member-directory.md).
MAP_READ_LIMIT = 5_000
_HIGHEST = "\U0010ffff"
# The search text of each policy's shown name (shared.identity.directory_index.search_text).
_SEARCH_TEXT = {"full_name": "directory.search.fullName", "first_name_initial": "directory.search.initialName",
                "alias": "directory.search.aliasName"}
# The search key of each policy's shown name.
_SHOWN = {"full_name": "directory.sortName", "first_name_initial": "directory.initialName",
          "alias": "directory.aliasName"}


def _pages(
    store: BrandStore, filters: list[Filter], order_by: str | None, first: int, limit: int | None = None,
    fields: tuple[str, ...] = SCAN_FIELDS,
) -> Iterator[Document]:
    """Every matching projection, in store pages that grow: a caller that stops early read little."""
    continuation, size = None, min(first, limit or _CHUNK)
    while True:
        page = store.query(MEMBERS, filters=filters, order_by=order_by, page_size=size, continuation=continuation,
                           fields=fields)
        yield from page.items
        continuation, size = page.continuation, min(size * 2, _CHUNK)
        if continuation is None:
            return


def _geo_ranges(ranges: list[tuple[str, str]]) -> Iterator[list[Filter]]:
    """The geo-key filters of each range of cells."""
    for first, last in ranges:
        low, high = geo_key_bounds(first, last)
        yield [Filter(GEO_KEY, ">=", low), Filter(GEO_KEY, "<", high)]


def _key_at(doc: Document, path: str) -> Any:
    value: Any = doc
    for segment in path.split("."):
        value = value.get(segment) if isinstance(value, dict) else None
    return value


def effective_availability(projection: dict[str, Any], now: datetime) -> str:
    """online / away until `availabilityUntil` (none: until changed); past it, offline."""
    stated = projection.get("availability") or "offline"
    until = projection.get("availabilityUntil")
    if stated in ("online", "away") and (until is None or until > isoformat(now)):
        return stated
    return "offline"


Stream = Iterator[tuple[str, Document]]


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

    def key_path(self, field: str) -> str:
        """A listing key in the policy's name order: the alias policy never sorts by real names."""
        return f"{KEYS}.{field}Alias" if self.policy == "alias" else f"{KEYS}.{field}"

    def display_name(self, doc: Document) -> str | None:
        return name_forms(doc.get("firstName"), doc.get("lastName"), doc.get("alias"))[self.policy]

    def shown_key(self, doc: Document) -> str:
        """The search key of the name the policy shows (sortName and aliasName are exactly that)."""
        projection = doc["directory"]
        key = _SHOWN[self.policy].split(".")[-1]
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
        return self.shows(doc)

    def narrowing(self) -> tuple[str, str | None]:
        """The listing key that cuts the read most: the city's, the shop's, or the name order itself."""
        if self.query.city:
            return "city", self.query.city
        if self.query.shop_id:
            return "shop", self.query.shop_id
        return "name", None

    def name_prefix(self) -> str:
        """The start every indexed name key of a shown name with this prefix has."""
        # "Jane D." is shown for "Jane Doe": the real-name key is cut before the initial's dot.
        if not self.query.text or self.query.match != "prefix":
            return ""
        return key_part(self.query.text if self.policy == "alias" else self.query.text.split(".")[0])

    def text_filters(self) -> list[Filter]:
        """A name "contains" search reads the substring index of the shown name's search text."""
        if not self.query.text or self.query.match != "contains":
            return []
        return [Filter(_SEARCH_TEXT[self.policy], "contains", search_pattern(self.query.text))]

    def ordered(self, field: str, prefix: str | None, after: str | None,
                keep: Callable[[dict[str, Any]], bool] | None = None) -> Stream:
        """Wanted members in name order after the name key `after`, from one prefix of a listing key; lazy."""
        path = self.key_path(field)
        head = key_part(prefix) + KEY_SEPARATOR if prefix is not None else ""
        start = head + self.name_prefix()
        ranges = []
        if start:
            end = start + _HIGHEST if self.name_prefix() else key_part(prefix or "") + PREFIX_END
            ranges = [Filter(path, ">=", start), Filter(path, "<", end)]
        # Only listed members carry a key, and its prefix is the city, shop or presence asked for: a
        # candidate is read whole only when something else must be checked on it.
        whole = keep is not None or (self.query.city and field != "city") or (self.query.shop_id and field != "shop")
        fields = SCAN_FIELDS if whole else (path, _SHOWN[self.policy]) if self.query.text else (path,)

        # A "contains" search reads the substring index: SQLite starts from its matches when they
        # are few, else walks the key in order checking each row against them (shared.adapters).
        filters = self.text_filters() + ranges + ([Filter(path, ">", head + after)] if after is not None else [])
        for doc in _pages(self.store, filters, path, first=self.query.page_size + 1, fields=fields):
            if ((keep is None or keep(doc["directory"])) and self.wanted(doc)) if whole else self.shows(doc):
                yield _key_at(doc, path)[len(head):], doc

    def shows(self, doc: Document) -> bool:
        """The text asked for is in (or starts) the shown name; a listed member's key was read."""
        if not self.query.text:
            return True
        shown = self.shown_key(doc)
        return shown.startswith(self.query.text) if self.query.match == "prefix" else self.query.text in shown

    def page(self) -> tuple[list[tuple[Document, float | None]], str | None]:
        """The entries of this page (with their distance) and the next page's token."""
        fingerprint = _fingerprint(self.brand, self.view, self.query)
        token = self.query.continuation
        if self.query.sort == "distance":
            after = _decode(token, fingerprint, (float, str)) if token else None
            found, keys = self.nearest(after)
        elif self.query.sort == "name":
            after = _decode(token, fingerprint, (str,)) if token else None
            chosen = list(islice(self.ordered(*self.narrowing(), after[0] if after else None),
                                 self.query.page_size + 1))
            found, keys = [(doc, None) for _, doc in chosen], [(key,) for key, _ in chosen]
        else:
            after = _decode(token, fingerprint, (int, str)) if token else None
            chosen = list(islice(self.by_availability(after), self.query.page_size + 1))
            found, keys = [(doc, None) for _, doc in chosen], [key for key, _ in chosen]
        size = self.query.page_size
        next_token = _encode(fingerprint, keys[size - 1]) if len(found) > size else None
        return found[:size], next_token

    def by_availability(self, after: tuple | None) -> Iterator[tuple[tuple, Document]]:
        """Online, away, then offline members, each by name, read through the presence keys.

        A status without an end is read in its own prefix. A timed one (online or away until some
        time) is still running or ended: the running ones are merged by name into their rank, the
        ended ones into the offline rank (read in the timed prefixes, skipping the few still running).
        """
        first_rank = after[0] if after else 0
        if not 0 <= first_rank < len(_PRESENCE_RANK):
            raise _invalid("continuation", "malformed continuation token")

        def ended(projection: dict[str, Any]) -> bool:
            return effective_availability(projection, self.now) == "offline"

        for rank in range(first_rank, len(_PRESENCE_RANK)):
            start = after[1] if after and rank == first_rank else None
            if rank < 2:
                value = ("online", "away")[rank]
                streams = [self.ordered("presence", value, start), self.running(value, start)]
            else:
                streams = [self.ordered("presence", "offline", start),
                           self.ordered("presence", "online-timed", start, keep=ended),
                           self.ordered("presence", "away-timed", start, keep=ended)]
            for key, doc in heapq.merge(*streams, key=lambda pair: pair[0]):
                yield (rank, key), doc

    def running(self, value: str, after: str | None) -> Stream:
        """The wanted members whose timed status `value` still runs, in name order after `after`.

        The live keys hold the hour each status ends: the hours from now on are found one read each
        (a renewed status ends within 15 minutes: one or two hours), each read in name order, merged.
        """
        path = self.key_path("live")
        low, end = live_prefix(value, isoformat(self.now)), f"{value}@{_HIGHEST}"
        streams = []
        while (page := self.store.query(MEMBERS, filters=[Filter(path, ">=", low), Filter(path, "<", end)],
                                        order_by=path, page_size=1, fields=(path,))).items:
            hour = _key_at(page.items[0], path).split(KEY_SEPARATOR)[0]
            streams.append(self.ordered("live", hour, after,
                                        keep=lambda p: effective_availability(p, self.now) == value))
            low = hour + PREFIX_END
        return heapq.merge(*streams, key=lambda pair: pair[0])

    def nearest(self, after: tuple | None) -> tuple[list, list]:
        """The grid's blocks nearest first, until every block left is farther than the page's last entry.

        A later page starts at the last distance served: the blocks wholly nearer are not read again.
        """
        lat, lon = self.query.near or (0.0, 0.0)
        radius = self.query.radius_km or math.inf
        last = after or (0.0, "")
        blocks = Nearest(lat, lon, limit_km=radius, start_km=last[0])
        # Without filters the point is all a candidate needs, and the geo key holds it.
        plain = not (self.query.text or self.query.city or self.query.shop_id)
        fields = GEO_FIELDS if plain else SCAN_FIELDS
        wanted = self.query.page_size + 1
        best: list[tuple[float, str, Document]] = []  # the nearest `wanted` so far, in order
        while (block := blocks.next(best[-1][0] if len(best) == wanted else math.inf)) is not None:
            low, high = block.key_range()
            filters = [Filter(GEO_KEY, ">", block.after) if block.after else Filter(GEO_KEY, ">=", low),
                       Filter(GEO_KEY, "<", geo_key_bounds(low, high)[1])]
            if block.level == 0:  # one cell: read whole
                docs, complete = list(_pages(self.store, filters, GEO_KEY, _CHUNK, fields=fields)), True
            else:
                page = self.store.query(MEMBERS, filters=filters, order_by=GEO_KEY, page_size=BLOCK_READ,
                                        fields=fields)
                docs, complete = page.items, page.continuation is None
            for doc in docs:
                if not plain and not self.wanted(doc):
                    continue
                distance = haversine_km(lat, lon, *geo_key_point(doc["directory"]["keys"]["geo"]))
                if distance <= radius and (after is None or (distance, doc["id"]) > last):
                    bisect.insort(best, (distance, doc["id"], doc), key=lambda c: (c[0], c[1]))
                    del best[wanted:]
            if not complete:
                blocks.split(block, docs[-1]["directory"]["keys"]["geo"])
        return [(doc, distance) for distance, _, doc in best], [(distance, id) for distance, id, _ in best]


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


cell_degrees = grid.cell_degrees


def _cluster(store: BrandStore, run: _Search, view: View, size: float, row: int, col: int, count: int,
             lat: float, lon: float, member_id: str | None) -> MapCluster | None:
    """One cell's cluster: the cell's centre for a visitor (never a member's point), the members' mean in
    the App; a lone member named after reading them now (None: they left or hid since)."""
    if view == "visitor":
        lat, lon = (row + 0.5) * size, (col + 0.5) * size
    alone = store.find(MEMBERS, member_id) if count == 1 and member_id else None
    if count == 1 and not ((alone or {}).get("directory") or {}).get("listed"):
        return None
    return MapCluster(lat=round(lat, 6), lon=round(lon, 6), count=count, member_id=member_id if count == 1 else None,
                      display_name=run.display_name(alone) if alone else None)


def _counted_map(store: BrandStore, run: _Search, counted: tuple[list[list[Any]], datetime],
                 bbox: tuple[float, float, float, float], zoom: int, view: View) -> DirectoryMap:
    """A low zoom's map from its counted grid: the cells whose members' mean lies in the box."""
    rows, built_at = counted
    size = cell_degrees(zoom)
    min_lat, min_lon, max_lat, max_lon = bbox
    clusters = []
    for row, col, count, lat_sum, lon_sum, member_id in rows:
        lat, lon = lat_sum / count, lon_sum / count
        if min_lat <= lat <= max_lat and min_lon <= lon <= max_lon:
            cluster = _cluster(store, run, view, size, row, col, count, lat, lon, member_id)
            if cluster is not None:
                clusters.append(cluster)
    return DirectoryMap(zoom=zoom, cell_degrees=size, clusters=clusters, counted_at=built_at)


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
    counted = grid.cells(store=store, zoom=zoom, now=now)
    if counted is not None:
        return _counted_map(store, run, counted, bbox, zoom, view)
    cells: dict[tuple[int, int], list[tuple[str, float, float]]] = {}
    ranges = box_ranges(*bbox)
    # The read budget is shared among the box's blocks, so a truncated map still covers the box.
    budget, truncated = max(1, MAP_READ_LIMIT // len(ranges)), False
    for filters in _geo_ranges(ranges):
        read = 0
        # Only listed members carry a geo key, and it holds their point: nothing else is read.
        for doc in _pages(store, filters, GEO_KEY, _CHUNK, limit=budget + 1, fields=GEO_FIELDS):
            read += 1
            if read > budget:
                truncated = True
                break
            lat, lon = geo_key_point(doc["directory"]["keys"]["geo"])
            if min_lat <= lat <= max_lat and min_lon <= lon <= max_lon:
                cells.setdefault((math.floor(lat / size), math.floor(lon / size)), []).append((doc["id"], lat, lon))
    clusters = []
    for (row, col), members in sorted(cells.items()):
        lat = sum(point[1] for point in members) / len(members)
        lon = sum(point[2] for point in members) / len(members)
        cluster = _cluster(store, run, view, size, row, col, len(members), lat, lon, members[0][0])
        if cluster is not None:
            clusters.append(cluster)
    return DirectoryMap(zoom=zoom, cell_degrees=size, clusters=clusters, truncated=truncated)

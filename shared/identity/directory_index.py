"""The searchable projection of a member, stored under `directory` in the member document.

Computed on every save (shared.identity.repository), so the directory filters and sorts on
indexed fields and never parses profiles. It holds only what the directory may show or sort on,
and `listed` is False for anyone who must never appear (not active, or hidden from the community).

The location grid: cells of 0.01 degree (about 1.1 km north-south), numbered by row (latitude)
and column (longitude) and stored as their Morton (Z-order) code in fixed-width hex. With that
order, every aligned block of 2^L x 2^L cells is one contiguous key range, so a proximity
search reads rings of doubling width around a point with a handful of range queries at any
scale, and a map reads a bounding box the same way (see docs/decisions/0009-member-directory.md).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from shared.clock import isoformat
from shared.identity.models import Member

GEO_CELL_DEGREES = 0.01
GRID_ROWS = 18_000  # 180 degrees of latitude
GRID_COLS = 36_000  # 360 degrees of longitude
GRID_BITS = 16  # rows and columns both fit in 16 bits: a cell code is 32 bits, 8 hex digits
EARTH_RADIUS_KM = 6371.0088
# Blocks a side of each proximity ring: finer means fewer documents read past the circle, more queries.
RING_BLOCKS = 8
FIRST_RING_KM = 1.0
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM


def sort_key(text: str) -> str:
    """Case- and accent-insensitive sort and search key ("Élodie" → "elodie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    """The (row, column) of the grid cell holding a point."""
    row = min(max(math.floor((lat + 90.0) * 100), 0), GRID_ROWS - 1)
    col = min(max(math.floor((lon + 180.0) * 100), 0), GRID_COLS - 1)
    return row, col


def _spread(value: int) -> int:
    """The 16 bits of value moved to the even bit positions of 32."""
    value &= 0xFFFF
    value = (value | value << 8) & 0x00FF00FF
    value = (value | value << 4) & 0x0F0F0F0F
    value = (value | value << 2) & 0x33333333
    return (value | value << 1) & 0x55555555


def morton(row: int, col: int) -> int:
    """Interleave the bits of row and column (column bits even, row bits odd)."""
    return _spread(col) | _spread(row) << 1


def cell_code(code: int) -> str:
    """The stored text of a cell code: fixed width, so text order is numeric order."""
    return f"{code:08x}"


def geo_cell(lat: float, lon: float) -> str:
    """The grid cell of a point, as its stored Morton code."""
    return cell_code(morton(*cell_of(lat, lon)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def name_forms(first_name: str | None, last_name: str | None, alias: str | None) -> dict[str, str | None]:
    """The name each brand policy shows; none reveals more than its policy allows."""
    first, last, chosen = (first_name or "").strip(), (last_name or "").strip(), (alias or "").strip()
    initial = f"{first} {last[0].upper()}." if first and last else first
    return {
        "full_name": " ".join(part for part in (first, last) if part) or chosen or None,
        "first_name_initial": initial or chosen or None,
        # No alias chosen: first name and family initial, the least the guide lets a brand show.
        "alias": chosen or initial or None,
    }


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _subtract(ranges: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of sorted, disjoint `ranges` outside sorted, disjoint `taken`."""
    left = []
    for first, last in ranges:
        for taken_first, taken_last in taken:
            if taken_last < first or taken_first > last:
                continue
            if taken_first > first:
                left.append((first, taken_first - 1))
            first = taken_last + 1
            if first > last:
                break
        if first <= last:
            left.append((first, last))
    return left


def _blocks(row0: int, col0: int, row1: int, col1: int, per_side: int) -> tuple[int, list[tuple[int, int]], tuple]:
    """Aligned blocks covering the cells [row0..row1] x [col0..col1], at most `per_side` blocks a side.

    Returns their level, their (block row, block column) and the rectangle of cells they cover
    (south, north, west, east; north and east exclusive).
    """
    level = 0
    while (row1 >> level) - (row0 >> level) >= per_side or (col1 >> level) - (col0 >> level) >= per_side:
        level += 1
    blocks = [(r, c) for r in range(row0 >> level, (row1 >> level) + 1)
              for c in range(col0 >> level, (col1 >> level) + 1)]
    covered = (row0 >> level << level, min((row1 >> level) + 1 << level, GRID_ROWS),
               col0 >> level << level, min((col1 >> level) + 1 << level, GRID_COLS))
    return level, blocks, covered


def _block_codes(level: int, block_row: int, block_col: int) -> tuple[int, int]:
    first = morton(block_row, block_col) << (2 * level)
    return first, first + (1 << (2 * level)) - 1


def _texts(ranges: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [(cell_code(first), cell_code(last)) for first, last in ranges]


class Rings:
    """Discs of growing radius around a point; each step names only the cells not read before.

    A step aims at a target radius: it covers the square around that disc with aligned blocks and
    reads the blocks that come within the target (corners beyond it wait for a later step, so a
    dense city just past the circle is not pulled in). `reach_km` after a step: every cell not read
    yet lies at least that far from the point. The grid does not wrap at ±180° (a member across the
    antimeridian is not found near it).
    """

    def __init__(self, lat: float, lon: float, limit_km: float = math.inf) -> None:
        self.lat, self.lon, self.limit_km = lat, lon, limit_km
        self.row, self.col = cell_of(lat, lon)
        self.target_km = 0.0
        self.read: list[tuple[int, int]] = []
        self.reach_km = 0.0

    def next(self, found: int = 0, wanted: int = 1) -> list[tuple[str, str]] | None:
        """The cell-code ranges of the next step, or None once everything up to the limit is read.

        `found`: entries within `reach_km` so far; `wanted`: how many the caller needs.
        """
        if self.reach_km >= self.limit_km:
            return None
        grown = FIRST_RING_KM if self.target_km == 0 else self.target_km * self._growth(found, wanted)
        previous, self.target_km = self.target_km, min(grown, self.limit_km)
        # At the limit and still short of it (an edge case of the window's shape): read everything.
        if self.target_km >= HALF_CIRCUMFERENCE_KM or self.target_km == previous:
            south, north, west, east = 0, GRID_ROWS - 1, 0, GRID_COLS - 1
        else:
            half_rows, half_cols = self._half_window()
            south, north = max(self.row - half_rows, 0), min(self.row + half_rows, GRID_ROWS - 1)
            west, east = max(self.col - half_cols, 0), min(self.col + half_cols, GRID_COLS - 1)
        level, blocks, covered = _blocks(south, west, north, east, per_side=RING_BLOCKS)
        whole = (south, north, west, east) == (0, GRID_ROWS - 1, 0, GRID_COLS - 1)
        target = math.inf if whole else self.target_km
        near = [_block_codes(level, r, c) for r, c in blocks if self._lower_bound_km(level, r, c) <= target]
        fresh = _subtract(_union(near), self.read)
        self.read = _union(self.read + fresh)
        self.reach_km = min(self._reach(*covered), target)
        return _texts(fresh)

    def _half_window(self) -> tuple[int, int]:
        """Half-sides, in cells, of the square holding the target disc (the cap's widest longitude)."""
        angle = self.target_km / EARTH_RADIUS_KM
        half_rows = math.ceil(math.degrees(angle) / GEO_CELL_DEGREES) + 1
        spread = math.sin(angle) / max(math.cos(math.radians(self.lat)), 1e-9)
        if spread >= 1 or angle >= math.pi / 2:
            return half_rows, GRID_COLS
        return half_rows, math.ceil(math.degrees(math.asin(spread)) / GEO_CELL_DEGREES) + 1

    @staticmethod
    def _growth(found: int, wanted: int) -> float:
        """Double while nothing is found; then aim at the radius the density seen so far predicts."""
        if found == 0:
            return 2.0
        return min(2.0, max(1.2, 1.1 * math.sqrt(wanted / found)))

    def _lower_bound_km(self, level: int, block_row: int, block_col: int) -> float:
        """No point of the block is nearer than this (the larger of two lower bounds)."""
        size = (1 << level) * GEO_CELL_DEGREES
        south, west = block_row * size - 90, block_col * size - 180
        d_lat = max(south - self.lat, self.lat - (south + size), 0.0)
        d_lon = min(max(west - self.lon, self.lon - (west + size), 0.0), 90.0)
        by_lat = math.radians(d_lat) * EARTH_RADIUS_KM
        by_lon = EARTH_RADIUS_KM * math.asin(math.cos(math.radians(self.lat)) * math.sin(math.radians(d_lon)))
        return max(by_lat, by_lon)

    def _reach(self, south: int, north: int, west: int, east: int) -> float:
        """Distance from the point to the nearest cell outside the rectangle (inf: it is the whole grid)."""
        bounds = [math.inf]
        if south > 0:
            bounds.append(math.radians(self.lat - (south * GEO_CELL_DEGREES - 90)) * EARTH_RADIUS_KM)
        if north < GRID_ROWS:
            bounds.append(math.radians((north * GEO_CELL_DEGREES - 90) - self.lat) * EARTH_RADIUS_KM)
        cos_lat = math.cos(math.radians(self.lat))
        for edge, inside in ((west, west > 0), (east, east < GRID_COLS)):
            if inside:
                delta = min(abs(self.lon - (edge * GEO_CELL_DEGREES - 180)), 90.0)
                bounds.append(EARTH_RADIUS_KM * math.asin(cos_lat * math.sin(math.radians(delta))))
        return max(0.0, min(bounds))


def box_ranges(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> list[tuple[str, str]]:
    """Cell-code ranges covering a bounding box with at most 4 x 4 aligned blocks."""
    (row0, col0), (row1, col1) = cell_of(min_lat, min_lon), cell_of(max_lat, max_lon)
    level, blocks, _ = _blocks(row0, col0, row1, col1, per_side=4)
    return _texts(_union([_block_codes(level, r, c) for r, c in blocks]))


def directory_fields(member: Member) -> dict[str, Any]:
    """What the directory indexes for one member; `listed` is False for anyone who must not appear."""
    names = name_forms(member.first_name, member.last_name, member.alias)
    location = member.location
    return {
        # A restricted member (GDPR article 18) is kept, not shown.
        "listed": (member.status == "active" and not member.visibility.hide_from_community
                   and member.restriction is None),
        # Ordered by real name for the name policies; the alias policy orders by `aliasName`.
        "sortName": sort_key(names["full_name"] or ""),
        "aliasName": sort_key(names["alias"] or ""),
        # The search key of "Jane D.": name search matches the shown name, read from here alone.
        "initialName": sort_key(names["first_name_initial"] or ""),
        "city": sort_key(member.address.city) if member.address.city else None,
        "shopId": member.home_shop_id,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "geoCell": geo_cell(location.lat, location.lon) if location else None,
        "availability": member.availability,
        "availabilityUntil": isoformat(member.availability_until) if member.availability_until else None,
    }

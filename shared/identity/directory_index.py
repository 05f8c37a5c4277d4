"""The searchable projection of a member, stored under `directory` in the member document.

Computed on every save (shared.identity.repository), so the directory filters and sorts on
indexed fields and never parses profiles. It holds only what the directory may show or sort on,
and `listed` is False for anyone who must never appear (not active, or hidden from the community).

The location grid: cells of 0.01 degree (about 1.1 km north-south), numbered by row (latitude)
and column (longitude) and stored as their Morton (Z-order) code in fixed-width hex. With that
order, every aligned block of 2^L x 2^L cells is one contiguous key range, so a proximity
search reads the blocks around a point nearest first, at any scale, and a map reads a bounding
box with a few range queries (see docs/decisions/0038-directory-indexes.md).

A listed member also carries the keys every listing reads in order (`keys`) and the texts name
search looks into (`search`); an unlisted one carries neither, so no listing ever reads them
(docs/decisions/0038-directory-indexes.md).
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from shared.clock import isoformat
from shared.identity.models import Member

GEO_CELL_DEGREES = 0.01
GRID_ROWS = 18_000  # 180 degrees of latitude
GRID_COLS = 36_000  # 360 degrees of longitude
GRID_BITS = 16  # rows and columns both fit in 16 bits: a cell code is 32 bits, 8 hex digits
EARTH_RADIUS_KM = 6371.0088


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


@dataclass(frozen=True, order=True)
class Block:
    """An aligned block of 2^level x 2^level cells, nearest first; `after`: the key read up to (partly read)."""

    lower_bound_km: float
    level: int
    row: int
    col: int
    after: str | None = None

    def key_range(self) -> tuple[str, str]:
        first, last = _block_codes(self.level, self.row, self.col)
        return cell_code(first), cell_code(last)


# A block larger than 16 times its distance is split without being read, down to this level (1.28
# degree): reading it would mostly bring back members far from the point, in Morton order. Farther
# out, large blocks are read (few queries to cover the world); the whole grid is read first, which
# ends the search at once for a brand of a few dozen members.
BLIND_LEVEL = 7
FAR_BLOCKS = 16


class Nearest:
    """The grid's blocks around a point in order of distance (best first), split as they prove dense.

    The caller takes the nearest block left (`next`; the whole grid first), reads at most a few
    dozen members of it in key order, and when the block holds more, hands back the last key read
    (`split`): the block's four quarters come back in turn, the ones read already left out and the
    one holding that key resumed after it. So a dense city is read only as near as the page needs,
    and a sparse countryside in a few large blocks. Once every block left is farther than the page's
    last entry, the page is exact.

    A later page resumes at the last distance served: blocks wholly nearer hold only entries served
    already, so they are never read again. The grid does not wrap at ±180° (a member across the
    antimeridian is not found near it).
    """

    def __init__(self, lat: float, lon: float, limit_km: float = math.inf, *, start_km: float = 0.0) -> None:
        self.lat, self.lon, self.limit_km, self.start_km = lat, lon, limit_km, start_km
        self._heap = [Block(0.0, GRID_BITS, 0, 0)]

    def next(self, within_km: float = math.inf) -> Block | None:
        """The nearest block left to read, if it may hold a point within `within_km` and the limit."""
        while self._heap:
            block = heapq.heappop(self._heap)
            if block.lower_bound_km > min(within_km, self.limit_km):
                heapq.heappush(self._heap, block)
                return None
            if self._served(block):
                continue
            size_km = math.radians((1 << block.level) * GEO_CELL_DEGREES) * EARTH_RADIUS_KM
            if GRID_BITS > block.level > BLIND_LEVEL and size_km > FAR_BLOCKS * block.lower_bound_km:
                self._push_quarters(block, None)
                continue
            return block
        return None

    def split(self, block: Block, last_key: str) -> None:
        """The block was read up to `last_key` (in key order): its quarters not read yet come back."""
        self._push_quarters(block, last_key)

    def _push_quarters(self, block: Block, after: str | None) -> None:
        level = block.level - 1
        after = after if after is not None else block.after
        reached = int(after[:8], 16) if after is not None else -1
        for d_row, d_col in ((0, 0), (0, 1), (1, 0), (1, 1)):  # Morton order: column bit below row bit
            row, col = block.row * 2 + d_row, block.col * 2 + d_col
            if row << level >= GRID_ROWS or col << level >= GRID_COLS:
                continue
            first, last = _block_codes(level, row, col)
            if last < reached:
                continue
            resumed = after if first <= reached else None
            heapq.heappush(self._heap, Block(_lower_bound_km(self.lat, self.lon, level, row, col), level, row, col,
                                             resumed))

    def _served(self, block: Block) -> bool:
        """Every point of the block is nearer than `start_km` (so every entry in it was served).

        The farthest point of a small block is one of its corners when the block stays clear of the
        point's opposite meridian and well short of the antipode (blocks of at most 10 degrees,
        corners under 8,000 km: an edge's own farthest point lies past 8,900 km).
        """
        size = (1 << block.level) * GEO_CELL_DEGREES
        if self.start_km <= 0 or size > 10:
            return False
        south, west = block.row * size - 90, block.col * size - 180
        north, east = min(south + size, 90.0), min(west + size, 180.0)
        opposite = self.lon + 180 if self.lon < 0 else self.lon - 180
        if west <= opposite <= east:
            return False
        farthest = max(haversine_km(self.lat, self.lon, lat, lon) for lat in (south, north) for lon in (west, east))
        return farthest + 1e-6 < min(self.start_km, 8000.0)


def _lower_bound_km(lat: float, lon: float, level: int, block_row: int, block_col: int) -> float:
    """No point of the block is nearer than this (the larger of two lower bounds)."""
    size = (1 << level) * GEO_CELL_DEGREES
    south, west = block_row * size - 90, block_col * size - 180
    d_lat = max(south - lat, lat - (south + size), 0.0)
    d_lon = min(max(west - lon, lon - (west + size), 0.0), 90.0)
    by_lat = math.radians(d_lat) * EARTH_RADIUS_KM
    by_lon = EARTH_RADIUS_KM * math.asin(math.cos(math.radians(lat)) * math.sin(math.radians(d_lon)))
    return max(by_lat, by_lon)


def box_ranges(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> list[tuple[str, str]]:
    """Cell-code ranges covering a bounding box with at most 4 x 4 aligned blocks."""
    (row0, col0), (row1, col1) = cell_of(min_lat, min_lon), cell_of(max_lat, max_lon)
    level, blocks, _ = _blocks(row0, col0, row1, col1, per_side=4)
    return _texts(_union([_block_codes(level, r, c) for r, c in blocks]))


# -- the keys of the listings and the texts of name search (listed members only) --------------------

# Between the parts of a key: below every character a part holds, so the text order of "a\x01b" is
# the order of (a, b), and every key of one prefix lies in [prefix\x01, prefix\x02).
KEY_SEPARATOR = "\x01"
PREFIX_END = "\x02"
# Between a search text's name and its one- and two-character pieces (never in a cleaned name).
PIECE_SEPARATOR = "\u241f"
_CONTROLS = dict.fromkeys(range(32))


def key_part(text: str) -> str:
    """A part of a key: control characters out, so the separator stays below everything."""
    return text.translate(_CONTROLS)


def order_key(*parts: str) -> str:
    """The key of an ordered listing: its parts joined by the separator (the last one is the id)."""
    return KEY_SEPARATOR.join(key_part(part) for part in parts)


def _search_clean(text: str) -> str:
    return key_part(text).replace(PIECE_SEPARATOR, "")


def search_text(shown_key: str) -> str | None:
    """What the "contains" index holds for one shown name: the name, then each distinct piece of
    one and two characters between separators.

    A trigram index finds three characters or more; a shorter search looks for the piece framed by
    separators ("\u241fab\u241f"), which only a piece of exactly those characters matches. A search
    of three characters or more holds no separator, so it only ever matches inside the name.
    """
    name = _search_clean(shown_key)
    if not name:
        return None
    pieces = sorted(set(name)) + sorted({name[index:index + 2] for index in range(len(name) - 1)})
    return name + "".join(PIECE_SEPARATOR + piece for piece in pieces) + PIECE_SEPARATOR


def search_pattern(query_key: str) -> str:
    """The "contains" value finding the shown names that hold this search key (see `search_text`)."""
    text = _search_clean(query_key)
    return text if len(text) >= 3 else PIECE_SEPARATOR + text + PIECE_SEPARATOR


def presence_prefix(availability: str, until: str | None) -> str:
    """The availability part of a member's presence key: a status with an end is `online-timed` or
    `away-timed`.

    A timed status is online or away until its end, then offline, with no write: the listing reads
    the ended ones in these prefixes among the offline, and the ones still running by `keys.live`.
    """
    if availability in ("online", "away") and until is not None:
        return f"{availability}-timed"
    return availability


def live_prefix(availability: str, until: str) -> str:
    """The prefix of a timed status's live key: the status and the hour its end falls in."""
    return f"{availability}@{until[:13]}"


def _geo_key(cell: str, lat: float, lon: float, member_id: str) -> str:
    """The grid cell, the point, the id (keys are unique: a read resumes after the last one exactly);
    a map or a distance listing reads every position from the key alone."""
    return f"{cell} {lat!r} {lon!r} {member_id}"


def geo_key_point(key: str) -> tuple[float, float]:
    _, lat, lon, _ = key.split(" ", 3)
    return float(lat), float(lon)


def geo_key_bounds(first: str, last: str) -> tuple[str, str]:
    """The key range [low, high) of the cells first..last (fixed-width codes; a space ends the code)."""
    return first, last + "!"


def _listing_keys(member: Member, names: dict[str, str], city: str | None, until: str | None) -> dict[str, str]:
    by_name, by_alias = order_key(names["full"], member.id), order_key(names["alias"], member.id)
    keys = {"name": by_name, "nameAlias": by_alias}
    presence = presence_prefix(member.availability, until)
    for field, prefix in (("city", city), ("shop", member.home_shop_id), ("presence", presence)):
        if prefix:
            keys[field] = key_part(prefix) + KEY_SEPARATOR + by_name
            keys[f"{field}Alias"] = key_part(prefix) + KEY_SEPARATOR + by_alias
    if presence.endswith("-timed") and until is not None:
        # The status and the hour it ends, then the name order: the statuses still running are the
        # few hours from now on (the App renews them every 15 minutes), each read in name order.
        hour = live_prefix(member.availability, until)
        keys["live"], keys["liveAlias"] = hour + KEY_SEPARATOR + by_name, hour + KEY_SEPARATOR + by_alias
    if member.location:
        keys["geo"] = _geo_key(geo_cell(member.location.lat, member.location.lon), member.location.lat,
                               member.location.lon, member.id)
    return keys


def directory_fields(member: Member) -> dict[str, Any]:
    """What the directory indexes for one member; `listed` is False for anyone who must not appear."""
    names = name_forms(member.first_name, member.last_name, member.alias)
    location = member.location
    # A restricted member (GDPR article 18) is kept, not shown.
    listed = member.status == "active" and not member.visibility.hide_from_community and member.restriction is None
    city = sort_key(member.address.city) if member.address.city else None
    until = isoformat(member.availability_until) if member.availability_until else None
    keys = {"full": sort_key(names["full_name"] or ""), "alias": sort_key(names["alias"] or ""),
            "initial": sort_key(names["first_name_initial"] or "")}
    listing: dict[str, Any] = {}
    if listed:
        listing["keys"] = _listing_keys(member, keys, city, until)
        texts = {"fullName": search_text(keys["full"]), "initialName": search_text(keys["initial"]),
                 "aliasName": search_text(keys["alias"])}
        listing["search"] = {field: text for field, text in texts.items() if text}
    return {
        "listed": listed,
        # Ordered by real name for the name policies; the alias policy orders by `aliasName`.
        "sortName": keys["full"],
        "aliasName": keys["alias"],
        # The search key of "Jane D.": name search matches the shown name, read from here alone.
        "initialName": keys["initial"],
        "city": city,
        "shopId": member.home_shop_id,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "geoCell": geo_cell(location.lat, location.lon) if location else None,
        "availability": member.availability,
        "availabilityUntil": until,
        **listing,
    }

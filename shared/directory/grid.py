"""The cluster grid of low zooms: a map of a whole country counted ahead, not member by member.

A map at zoom 9 or more covers a city: it reads the members of its box (at most MAP_READ_LIMIT).
Below, a box holds most of a brand's members, which no request can read in time, so the counts of
every cell of each zoom up to GRID_MAX_ZOOM are computed ahead from one read of the listed
members' points (`rebuild`): one document per zoom (`directory_grids`, id "z<zoom>"), each cell
with its count, the sum of its points (the App shows their mean) and, for a cell of one member, who.

The grid is rebuilt by the `directory_grids` timer every GRID_REFRESH_MINUTES and, when a map finds
it missing or older than GRID_MAX_AGE, by that request. So a low-zoom count is at most that old;
a lone member is named only after reading their document now, so one who hid since is not shown.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.identity.directory_index import geo_key_point
from shared.ports.store import BrandStore

GRIDS = "directory_grids"
MEMBERS = "members"
GEO_KEY = "directory.keys.geo"
GRID_MAX_ZOOM = 8
GRID_REFRESH_MINUTES = 5
GRID_MAX_AGE = timedelta(minutes=15)
# Cells one zoom's document holds at most (about 40 bytes each, well under a document's 2 MB).
MAX_CELLS = 20_000
_PAGE = 1000


def cell_degrees(zoom: int) -> float:
    """Cluster cell size of a zoom level: a quarter of a web-map tile (360° / 2^zoom / 4)."""
    return 360.0 / (2**zoom) / 4


def _points(store: BrandStore) -> list[tuple[str, float, float]]:
    """Every listed member's id and point (only listed members carry a geo key)."""
    points, continuation = [], None
    while True:
        page = store.query(MEMBERS, order_by=GEO_KEY, page_size=_PAGE, continuation=continuation, fields=(GEO_KEY,))
        points += [(doc["id"], *geo_key_point(doc["directory"]["keys"]["geo"])) for doc in page.items]
        continuation = page.continuation
        if continuation is None:
            return points


def rebuild(*, store: BrandStore, now: datetime) -> dict[int, int]:
    """Count every cell of each low zoom again; the number of cells per zoom written."""
    points = _points(store)
    written = {}
    for zoom in range(GRID_MAX_ZOOM + 1):
        size = cell_degrees(zoom)
        cells: dict[tuple[int, int], list[Any]] = {}
        for member_id, lat, lon in points:
            cell = cells.setdefault((math.floor(lat / size), math.floor(lon / size)), [0, 0.0, 0.0, member_id])
            cell[0] += 1
            cell[1] += lat
            cell[2] += lon
        rows = [[row, col, count, lat_sum, lon_sum, member_id if count == 1 else None]
                for (row, col), (count, lat_sum, lon_sum, member_id) in sorted(cells.items())]
        overflow = len(rows) > MAX_CELLS
        store.upsert(GRIDS, {"id": f"z{zoom}", "zoom": zoom, "builtAt": isoformat(now), "overflow": overflow,
                             "cells": [] if overflow else rows})
        written[zoom] = 0 if overflow else len(rows)
    return written


def cells(*, store: BrandStore, zoom: int, now: datetime) -> tuple[list[list[Any]], datetime] | None:
    """The counted cells of a low zoom and when they were counted (rebuilt first if missing or old);
    None when the zoom is not counted ahead (too fine, or too many cells: the map reads members)."""
    if zoom > GRID_MAX_ZOOM:
        return None
    doc = store.find(GRIDS, f"z{zoom}")
    if doc is None or parse_instant(doc["builtAt"]) + GRID_MAX_AGE <= now:
        rebuild(store=store, now=now)
        doc = store.get(GRIDS, f"z{zoom}")
    if doc["overflow"]:
        return None
    return doc["cells"], parse_instant(doc["builtAt"])

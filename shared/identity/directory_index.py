"""The searchable projection of a member, stored under `directory` in the member document.

Computed on every save (shared.identity.repository), so the directory queries indexed fields
and never parses profiles. It holds only what the directory may show or sort on.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from shared.identity.models import Member

# Grid cell size in degrees for proximity search (about 11 km at the equator, less further north).
GEO_CELL_DEGREES = 0.1


def sort_key(text: str) -> str:
    """Case- and accent-insensitive sort and search key ("Élodie" → "elodie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def geo_cell(lat: float, lon: float) -> str:
    """The grid cell of a point, as "<row>:<col>"."""
    return f"{math.floor(lat / GEO_CELL_DEGREES)}:{math.floor(lon / GEO_CELL_DEGREES)}"


def directory_fields(member: Member) -> dict[str, Any]:
    """What the directory indexes for one member; `listed` is False for anyone who must not appear."""
    name = " ".join(part for part in (member.first_name, member.last_name) if part) or member.alias or ""
    location = member.location
    return {
        "listed": member.status == "active" and not member.visibility.hide_from_community,
        "sortName": sort_key(name),
        "city": sort_key(member.address.city) if member.address.city else None,
        "shopId": member.home_shop_id,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "geoCell": geo_cell(location.lat, location.lon) if location else None,
    }

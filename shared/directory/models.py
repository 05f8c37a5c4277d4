"""What the directory answers: its entries for each view, its pages and its map (the API's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.identity.models import CamelModel, GeoPoint

View = Literal["member", "visitor"]
SortOrder = Literal["name", "availability", "distance"]
MatchMode = Literal["prefix", "contains"]


class MemberDirectoryEntry(CamelModel):
    """A member as other members see them in the App."""

    id: str
    display_name: str | None
    city: str | None = None
    postal_code: str | None = None  # only when the city is unknown: the guide shows one or the other
    home_shop_id: str | None = None
    location: GeoPoint | None = None
    photo_url: str | None = None
    availability: str
    distance_km: float | None = None


class VisitorDirectoryEntry(CamelModel):
    """A member as a website visitor sees them in the widget: no position, distance to the km."""

    id: str
    display_name: str | None
    city: str | None = None
    postal_code: str | None = None
    home_shop_id: str | None = None
    photo_url: str | None = None
    availability: str
    distance_km: int | None = None


class MemberDirectoryPage(CamelModel):
    items: list[MemberDirectoryEntry]
    continuation: str | None = None  # None: last page


class VisitorDirectoryPage(CamelModel):
    items: list[VisitorDirectoryEntry]
    continuation: str | None = None


class MapCluster(CamelModel):
    """Members grouped in one grid cell of the zoom level; a lone member is named."""

    lat: float
    lon: float
    count: int
    member_id: str | None = None
    display_name: str | None = None


class DirectoryMap(CamelModel):
    zoom: int
    cell_degrees: float
    clusters: list[MapCluster] = Field(default_factory=list)
    # True: the box holds more members than one map reads (MAP_READ_LIMIT); counts are partial, zoom in.
    truncated: bool = False
    # Low zooms are counted ahead (shared/directory/grid.py): when these counts were made.
    counted_at: datetime | None = None


class ProfilePrice(CamelModel):
    amount_minor: int
    currency: str


class ProfileProduct(CamelModel):
    """A product on a member's profile, as the catalog has it now (price, availability)."""

    product_id: str
    title: str
    link: str
    # The product's page: the App's with the brand's social commerce, else the brand's own `link`.
    page_url: str
    image_link: str | None = None
    price: ProfilePrice
    sale_price: ProfilePrice | None = None
    availability: str
    note: str | None = None


class ProfileStore(CamelModel):
    id: str
    name: str
    city: str | None = None


class _PublicProfile(CamelModel):
    id: str
    display_name: str | None
    photo_url: str | None = None
    self_presentation: str | None = None
    city: str | None = None
    postal_code: str | None = None  # only when the city is unknown, as in the directory
    home_store: ProfileStore | None = None
    availability: str
    owned_products: list[ProfileProduct] = Field(default_factory=list)
    recommended_products: list[ProfileProduct] = Field(default_factory=list)


class MemberPublicProfile(_PublicProfile):
    """Another member as members see them in the App."""

    location: GeoPoint | None = None


class VisitorPublicProfile(_PublicProfile):
    """A member as a website visitor sees them in the widget: no position."""

"""The events the catalog raises (docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.clock import isoformat
from shared.events.model import DomainEvent, event_id


class ProductRetired(DomainEvent):
    """A product left the catalog (deleted by the platform, or left out of a full sync run)."""

    name: ClassVar[str] = "ProductRetired"

    product_id: str = Field(alias="productId")


def retired(brand_id: str, product_id: str, *, at: datetime) -> ProductRetired:
    return ProductRetired(id=event_id(ProductRetired.name, brand_id, product_id, isoformat(at)), brand_id=brand_id,
                          occurred_at=at, product_id=product_id)


class CategoriesMoved(DomainEvent):
    """Categories took another parent: the products under them show under other ancestors now."""

    name: ClassVar[str] = "CategoriesMoved"

    category_ids: list[str] = Field(alias="categoryIds")


def moved(brand_id: str, category_ids: list[str], *, at: datetime) -> CategoriesMoved:
    return CategoriesMoved(id=event_id(CategoriesMoved.name, brand_id, *category_ids, isoformat(at)),
                           brand_id=brand_id, occurred_at=at, category_ids=category_ids)

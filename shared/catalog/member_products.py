"""A member's products: the catalog products they own and those they recommend, in their order.

Member data in the guide's sense: in the member's export, erased with the member (on MemberErased,
shared/catalog/handlers.py). One document per member (`member_products`, id = the member's id),
written whole by the member: two ordered lists of at most MAX_ITEMS products, each with an optional
short note. Every product must be an active catalog product when it is added; a product retired
since drops out of what the lists show (`shown`), whatever the document still holds, and shows
again if the brand brings it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from shared.catalog import products
from shared.catalog.models import CATALOG_ID, Input
from shared.clock import isoformat
from shared.errors import InvalidInput
from shared.ports.store import BrandStore, DocumentNotFound

MEMBER_PRODUCTS = "member_products"
MAX_ITEMS = 50
LISTS = ("owned", "recommended")


class MemberProduct(Input):
    product_id: str = Field(alias="productId", pattern=CATALOG_ID)
    note: str | None = Field(None, max_length=280)


class MemberProductLists(Input):
    """The member's two lists, each in the member's order, a product at most once per list."""

    owned: list[MemberProduct] = Field(default_factory=list, max_length=MAX_ITEMS)
    recommended: list[MemberProduct] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _once_per_list(self) -> MemberProductLists:
        for name in LISTS:
            ids = [item.product_id for item in getattr(self, name)]
            if len(ids) != len(set(ids)):
                raise ValueError(f"a product is at most once in {name}")
        return self


def get(*, store: BrandStore, member_id: str) -> MemberProductLists:
    """The member's lists as stored (empty when the member has none)."""
    doc = store.find(MEMBER_PRODUCTS, member_id)
    return MemberProductLists.model_validate({name: (doc or {}).get(name, []) for name in LISTS})


def put(*, store: BrandStore, member_id: str, data: MemberProductLists, now: datetime) -> MemberProductLists:
    """Replace both lists; 422 naming each product that is not an active product of the catalog."""
    wanted = {item.product_id for name in LISTS for item in getattr(data, name)}
    active = _active(store, wanted)
    errors = [{"field": f"{name}.{index}.productId", "message": "not a product of the catalog"}
              for name in LISTS for index, item in enumerate(getattr(data, name)) if item.product_id not in active]
    if errors:
        raise InvalidInput("Unknown product", errors=errors)
    store.upsert(MEMBER_PRODUCTS, {"id": member_id, "memberId": member_id,
                                   **data.model_dump(mode="json", by_alias=True), "updatedAt": isoformat(now)})
    return data


def _active(store: BrandStore, ids: set[str]) -> dict[str, dict[str, Any]]:
    found = {}
    for product_id in ids:
        doc = store.find(products.PRODUCTS, product_id)
        if doc is not None and doc["status"] == "active":
            found[product_id] = doc
    return found


def shown(*, store: BrandStore, member_id: str) -> dict[str, list[tuple[MemberProduct, dict[str, Any]]]]:
    """Each list with the catalog product of each item, retired and unknown products left out."""
    lists = get(store=store, member_id=member_id)
    active = _active(store, {item.product_id for name in LISTS for item in getattr(lists, name)})
    return {name: [(item, active[item.product_id]) for item in getattr(lists, name) if item.product_id in active]
            for name in LISTS}


def erase(*, store: BrandStore, member_id: str) -> bool:
    """Delete the member's lists (their erasure); False when there were none."""
    try:
        store.delete(MEMBER_PRODUCTS, member_id)
    except DocumentNotFound:
        return False
    return True

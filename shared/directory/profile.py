"""A member's public profile: what another member (App) or a visitor (widget) may see of them.

Only a member the directory lists (active, not hidden from the community, not restricted) has a
public profile; anyone else answers 404, as if unknown. The name follows the brand's display-name
policy, the place is the city (or the postal code when the city is unknown) and the home store, the
position only in the App; the products are the member's owned and recommended lists with the
catalog's current price and availability, retired products left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.brands.models import Brand
from shared.catalog import member_products, pages
from shared.catalog import stores as brand_stores
from shared.catalog.member_products import MemberProduct
from shared.directory.models import (
    MemberPublicProfile,
    ProfileProduct,
    ProfileStore,
    View,
    VisitorPublicProfile,
)
from shared.directory.service import MEMBERS, PHOTO_URL_TTL, effective_availability
from shared.errors import NotFound
from shared.identity.directory_index import name_forms
from shared.ports.blobs import CONTAINER_UGC, BlobStore
from shared.ports.store import BrandStore


def _product(item: MemberProduct, doc: dict[str, Any], brand: Brand, app_base_url: str) -> ProfileProduct:
    page = pages.page_url(doc, social_commerce=brand.social_commerce, app_base_url=app_base_url, brand_id=brand.id)
    return ProfileProduct(product_id=doc["id"], title=doc["title"], link=doc["link"], page_url=page,
                          image_link=doc.get("imageLink"), price=doc["price"], sale_price=doc.get("salePrice"),
                          availability=doc["availability"], note=item.note)


def _home_store(store: BrandStore, store_id: str | None) -> ProfileStore | None:
    doc = store.find(brand_stores.STORES, store_id) if store_id else None
    return ProfileStore(id=doc["id"], name=doc["name"], city=doc.get("city")) if doc else None


def public_profile(*, store: BrandStore, brand: Brand, member_id: str, view: View, now: datetime,
                   blobs: BlobStore, app_base_url: str) -> MemberPublicProfile | VisitorPublicProfile:
    """The member's public profile in this view; 404 for a member the directory does not list."""
    doc = store.find(MEMBERS, member_id)
    if doc is None or not (doc.get("directory") or {}).get("listed"):
        raise NotFound("Member not found")
    address = doc.get("address") or {}
    city, photo = address.get("city"), doc.get("photoBlob")
    lists = member_products.shown(store=store, member_id=member_id)
    common = {
        "id": doc["id"],
        "display_name": name_forms(doc.get("firstName"), doc.get("lastName"), doc.get("alias"))[
            brand.display_name_policy],
        "photo_url": blobs.signed_url(CONTAINER_UGC, photo, expires_in=PHOTO_URL_TTL) if photo else None,
        "self_presentation": doc.get("selfPresentation"),
        "city": city,
        "postal_code": None if city else address.get("postalCode"),
        "home_store": _home_store(store, doc.get("homeShopId")),
        "availability": effective_availability(doc["directory"], now),
        "owned_products": [_product(item, product, brand, app_base_url) for item, product in lists["owned"]],
        "recommended_products": [_product(item, product, brand, app_base_url)
                                 for item, product in lists["recommended"]],
    }
    if view == "visitor":
        return VisitorPublicProfile(**common)
    return MemberPublicProfile(**common, location=doc.get("location"))

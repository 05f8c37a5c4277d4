"""Product picking, shared by the App's and the widget's routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from functions.http_api.routers.common.directory import open_brand
from popsell.bootstrap import Container
from shared.brands.models import Brand
from shared.catalog import pages, products
from shared.catalog.models import CATALOG_ID, LOCALE, ProductCard, ProductDetail
from shared.errors import InvalidInput, NotFound

PickedId = Annotated[str | None, Query(alias="productId", pattern=CATALOG_ID, description="The brand's product id")]
Locale = Annotated[str | None, Query(pattern=LOCALE, description="The title and description in this language")]
ProductId = Annotated[str, Path(pattern=CATALOG_ID)]
PickedUrl = Annotated[str | None, Query(max_length=2000, description="The product page's URL, when the id is unknown")]


def pick(container: Container, brand_id: str, product_id: str | None, url: str | None) -> ProductCard:
    """The active catalog product a page names, by the brand's id or the page URL; 404 when none."""
    if (product_id is None) == (url is None):
        raise InvalidInput("Give productId or url", errors=[{"field": "productId", "message": "give productId or url"}])
    brand = open_brand(container, brand_id)
    found = products.resolve(store=container.store.for_brand(brand_id), product_id=product_id, url=url)
    if found is None:
        raise NotFound("No product of the catalog is on this page")
    return ProductCard.model_validate(with_page_url(container, brand, found))


def product_detail(container: Container, brand_id: str, product_id: str, locale: str | None) -> ProductDetail:
    """An active product with its variants; 404 for a retired or unknown one."""
    brand = open_brand(container, brand_id)
    return ProductDetail.model_validate(with_page_url(container, brand, products.detail(
        store=container.store.for_brand(brand_id), product_id=product_id, locale=locale)))


def with_page_url(container: Container, brand: Brand, product: dict[str, Any]) -> dict[str, Any]:
    """A product (and its variants) with `pageUrl`: the App's page with the brand's social commerce, else its link."""
    return pages.with_page_urls(product, social_commerce=brand.social_commerce,
                                app_base_url=container.settings.app_base_url, brand_id=brand.id)

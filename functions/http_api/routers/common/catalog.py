"""The catalog's reads (browse, search, picking, a product's page), shared by the App's and the widget's routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from functions.http_api.routers.common.directory import open_brand
from popsell.bootstrap import Container
from shared.brands.models import Brand
from shared.catalog import pages, products, search
from shared.catalog.models import (
    CATALOG_ID,
    LOCALE,
    Availability,
    CategoryBrowse,
    CategoryCount,
    ProductCard,
    ProductDetail,
    ProductPage,
)
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


SearchText = Annotated[str | None, Query(alias="q", max_length=200,
                                         description="Text in the title, brand, GTIN, MPN or id (any case, accents)")]
CategoryFilter = Annotated[str | None, Query(alias="categoryId", pattern=CATALOG_ID,
                                             description="Products in this category or its subcategories")]
AvailabilityFilter = Annotated[Availability | None, Query(description="Only products with this availability")]
Currency = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="The currency of the price range")]
MinPrice = Annotated[int | None, Query(alias="minPrice", ge=0, description="Lowest price, in minor units")]
MaxPrice = Annotated[int | None, Query(alias="maxPrice", ge=0, description="Highest price, in minor units")]
SortOrder = Annotated[search.Sort, Query(description="relevance (with q; else by title), title, price, -price")]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=search.MAX_PAGE_SIZE)]
Continuation = Annotated[str | None, Query(max_length=2000, description="The previous page's continuation")]


def product_page(container: Container, brand_id: str, query: search.CatalogQuery, locale: str | None) -> ProductPage:
    """One page of the catalog's active products matching the query."""
    brand = open_brand(container, brand_id)
    found, continuation = search.search(store=container.store.for_brand(brand_id), query=query)
    cards = [with_page_url(container, brand, products.localised(doc, locale)) for doc in found]
    return ProductPage(items=[ProductCard.model_validate(card) for card in cards], continuation=continuation)


def category_browse(container: Container, brand_id: str, locale: str | None) -> CategoryBrowse:
    """The category tree with the active products each category shows."""
    open_brand(container, brand_id)
    nodes, total = search.browse_tree(store=container.store.for_brand(brand_id), locale=locale)
    return CategoryBrowse(items=[CategoryCount.model_validate(node) for node in nodes], total=total)

"""The brand's catalog in the App: the product a page of the brand's site shows, for a member picking it."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.catalog import (
    AvailabilityFilter,
    CategoryFilter,
    Continuation,
    Currency,
    Locale,
    MaxPrice,
    MinPrice,
    PageSize,
    PickedId,
    PickedUrl,
    ProductId,
    SearchText,
    SortOrder,
    category_browse,
    pick,
    product_detail,
    product_page,
)
from shared.catalog import search
from shared.catalog.models import CategoryBrowse, ProductCard, ProductDetail, ProductPage

router = APIRouter(tags=["app: catalog"])


@router.get("/api/v1/app/{brand_id}/catalog/pick", response_model=ProductCard,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_pick(brand_id: str, container: ContainerDep, product_id: PickedId = None,
             url: PickedUrl = None) -> ProductCard:
    """Product picking: the catalog product of a page of the brand's site (by its id, else the page URL)."""
    return pick(container, brand_id, product_id, url)


@router.get("/api/v1/app/{brand_id}/catalog/products/{product_id}", response_model=ProductDetail,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_product(brand_id: str, product_id: ProductId, container: ContainerDep,
                locale: Locale = None) -> ProductDetail:
    """A product of the catalog as a member sees it: images, description, prices, availability, its variants."""
    return product_detail(container, brand_id, product_id, locale)


@router.get("/api/v1/app/{brand_id}/catalog/products", response_model=ProductPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_products(brand_id: str, container: ContainerDep, q: SearchText = None, category_id: CategoryFilter = None,
                 availability: AvailabilityFilter = None, currency: Currency = None, min_price: MinPrice = None,
                 max_price: MaxPrice = None, sort: SortOrder = "relevance", page_size: PageSize = 20,
                 continuation: Continuation = None, locale: Locale = None) -> ProductPage:
    """The catalog as a member browses it: by category, text, availability and price range, sorted, a page at a time.

    404 for an unknown category; 422 for a price range without its currency or upside down, or a
    continuation that belongs to another query.
    """
    query = search.make_query(text=q, category_id=category_id, availability=availability, currency=currency,
                              min_price=min_price, max_price=max_price, sort=sort, page_size=page_size,
                              continuation=continuation)
    return product_page(container, brand_id, query, locale)


@router.get("/api/v1/app/{brand_id}/catalog/categories", response_model=CategoryBrowse,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_categories(brand_id: str, container: ContainerDep, locale: Locale = None) -> CategoryBrowse:
    """The brand's categories, depth-first in its order, each with the active products it shows."""
    return category_browse(container, brand_id, locale)

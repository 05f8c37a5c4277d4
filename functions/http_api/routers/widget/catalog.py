"""The brand's catalog in the widget (public): the product a page of the brand's site shows."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.catalog import Locale, PickedId, PickedUrl, ProductId, pick, product_detail
from shared.catalog.models import ProductCard, ProductDetail

router = APIRouter(tags=["widget: catalog"])


@router.get("/api/v1/widget/{brand_id}/catalog/pick", response_model=ProductCard,
            responses=problem_responses(404, 422), **access("public"))
def widget_pick(brand_id: str, container: ContainerDep, product_id: PickedId = None,
                url: PickedUrl = None) -> ProductCard:
    """Product picking: the catalog product of the brand's page the visitor is on (by its id, else the page URL)."""
    return pick(container, brand_id, product_id, url)


@router.get("/api/v1/widget/{brand_id}/catalog/products/{product_id}", response_model=ProductDetail,
            responses=problem_responses(404, 422), **access("public"))
def widget_product(brand_id: str, product_id: ProductId, container: ContainerDep,
                   locale: Locale = None) -> ProductDetail:
    """A product of the catalog as a visitor sees it: images, description, prices, availability, its variants."""
    return product_detail(container, brand_id, product_id, locale)

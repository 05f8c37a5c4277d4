"""The brand's catalog in the widget (public): the product a page of the brand's site shows."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.catalog import PickedId, PickedUrl, pick
from shared.catalog.models import ProductCard

router = APIRouter(tags=["widget: catalog"])


@router.get("/api/v1/widget/{brand_id}/catalog/pick", response_model=ProductCard,
            responses=problem_responses(404, 422), **access("public"))
def widget_pick(brand_id: str, container: ContainerDep, product_id: PickedId = None,
                url: PickedUrl = None) -> ProductCard:
    """Product picking: the catalog product of the brand's page the visitor is on (by its id, else the page URL)."""
    return pick(container, brand_id, product_id, url)

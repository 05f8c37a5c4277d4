"""The brand's catalog in the App: the product a page of the brand's site shows, for a member picking it."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.catalog import PickedId, PickedUrl, pick
from shared.catalog.models import ProductCard

router = APIRouter(tags=["app: catalog"])


@router.get("/api/v1/app/{brand_id}/catalog/pick", response_model=ProductCard,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_pick(brand_id: str, container: ContainerDep, product_id: PickedId = None,
             url: PickedUrl = None) -> ProductCard:
    """Product picking: the catalog product of a page of the brand's site (by its id, else the page URL)."""
    return pick(container, brand_id, product_id, url)

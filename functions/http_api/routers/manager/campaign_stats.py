"""Campaign dashboards in the Manager: the brand's campaign totals, and each member's, over a date range."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.crm import campaign_stats

router = APIRouter(tags=["campaign dashboards"])


@router.get("/api/v1/manager/brands/{brand_id}/campaigns/stats", response_model=campaign_stats.BrandRangeStats,
            **access("manager", level="viewer"), responses=problem_responses(401, 403, 404, 422))
def brand_campaign_totals(brand: ManagedBrand, container: ContainerDep, from_day: FromDay = None,
                          to_day: ToDay = None) -> campaign_stats.BrandRangeStats:
    """The brand's campaign totals and rates, and each member's, over campaigns sent between two days."""
    start, end = campaign_stats.parse_range(from_day, to_day, container.clock.now().date())
    return campaign_stats.for_brand(store=container.store.for_brand(brand.id), start=start, end=end)

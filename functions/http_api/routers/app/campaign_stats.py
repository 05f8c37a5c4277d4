"""Campaign dashboards: a member's own campaign and date-range totals; the brand's totals by member (Manager)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.problems import problem_responses
from shared.crm import campaign_stats

router = APIRouter(tags=["campaign dashboards"])

FromDay = Annotated[str | None, Query(alias="from", description="First UTC day, YYYY-MM-DD (default: 30 days ago)")]
ToDay = Annotated[str | None, Query(alias="to", description="Last UTC day, YYYY-MM-DD (default: today)")]


@router.get("/api/v1/app/{brand_id}/campaigns/stats", response_model=campaign_stats.RangeStats,
            **access("member"), responses=problem_responses(401, 404, 422))
def my_campaign_totals(brand_id: str, member: CurrentMember, container: ContainerDep,
                       from_day: FromDay = None, to_day: ToDay = None) -> campaign_stats.RangeStats:
    """Your totals and rates over the campaigns you sent between two days (inclusive)."""
    start, end = campaign_stats.parse_range(from_day, to_day, container.clock.now().date())
    return campaign_stats.for_member(container.store.for_brand(brand_id), member_id=member.id, start=start, end=end)


@router.get("/api/v1/app/{brand_id}/campaigns/{campaign_id}/stats", response_model=campaign_stats.CampaignStats,
            **access("member"), responses=problem_responses(401, 404))
def my_campaign_stats(brand_id: str, campaign_id: str, member: CurrentMember,
                      container: ContainerDep) -> campaign_stats.CampaignStats:
    """The counters and rates of one of your campaigns (another member's answers 404)."""
    return campaign_stats.for_campaign(container.store.for_brand(brand_id), member_id=member.id,
                                       campaign_id=campaign_id)


@router.get("/api/v1/manager/brands/{brand_id}/campaigns/stats", response_model=campaign_stats.BrandRangeStats,
            **access("manager", level="viewer"), responses=problem_responses(401, 403, 404, 422))
def brand_campaign_totals(brand: ManagedBrand, container: ContainerDep, from_day: FromDay = None,
                          to_day: ToDay = None) -> campaign_stats.BrandRangeStats:
    """The brand's campaign totals and rates, and each member's, over campaigns sent between two days."""
    start, end = campaign_stats.parse_range(from_day, to_day, container.clock.now().date())
    return campaign_stats.for_brand(container.store.for_brand(brand.id), start=start, end=end)

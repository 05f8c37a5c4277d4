"""Campaign dashboards in the App: a member's own campaign and date-range totals."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.crm import campaign_stats

router = APIRouter(tags=["campaign dashboards"])


@router.get("/api/v1/app/{brand_id}/campaigns/stats", response_model=campaign_stats.RangeStats,
            **access("member"), responses=problem_responses(401, 404, 422))
def my_campaign_totals(brand_id: str, member: CurrentMember, container: ContainerDep,
                       from_day: FromDay = None, to_day: ToDay = None) -> campaign_stats.RangeStats:
    """Your totals and rates over the campaigns you sent between two days (inclusive)."""
    start, end = campaign_stats.parse_range(from_day, to_day, container.clock.now().date())
    return campaign_stats.for_member(store=container.store.for_brand(brand_id), member_id=member.id, start=start,
                                     end=end)


@router.get("/api/v1/app/{brand_id}/campaigns/{campaign_id}/stats", response_model=campaign_stats.CampaignStats,
            **access("member"), responses=problem_responses(401, 404))
def my_campaign_stats(brand_id: str, campaign_id: str, member: CurrentMember,
                      container: ContainerDep) -> campaign_stats.CampaignStats:
    """The counters and rates of one of your campaigns (another member's answers 404)."""
    return campaign_stats.for_campaign(store=container.store.for_brand(brand_id), member_id=member.id,
                                       campaign_id=campaign_id)

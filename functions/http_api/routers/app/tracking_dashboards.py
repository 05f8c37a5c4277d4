"""Tracking dashboard in the App: a member's own clicks, visits, orders, sales and commissions."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.crm.campaign_stats import parse_range
from shared.tracking import dashboards

router = APIRouter(tags=["tracking dashboards"])


@router.get("/api/v1/app/{brand_id}/tracking/dashboard", response_model=dashboards.Dashboard,
            **access("member"), responses=problem_responses(401, 404, 422))
def my_tracking_dashboard(brand_id: str, member: CurrentMember, container: ContainerDep,
                          from_day: FromDay = None, to_day: ToDay = None) -> dashboards.Dashboard:
    """Your clicks, visits, orders, sales and commissions between two days, by source, target kind and day."""
    start, end = parse_range(from_day, to_day, container.clock.now().date())
    return dashboards.dashboard(store=container.store.for_brand(brand_id), member_id=member.id, start=start, end=end)

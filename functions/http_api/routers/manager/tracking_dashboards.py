"""Tracking dashboards in the Manager: the brand's, its members' ranking and one member's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.crm.campaign_stats import parse_range
from shared.tracking import dashboards
from shared.tracking.counters import BRAND_ROLLUP

router = APIRouter(tags=["tracking dashboards"])
MANAGER = "/api/v1/manager/brands/{brand_id}/tracking/dashboard"


@router.get(MANAGER, response_model=dashboards.Dashboard, **access("manager", level="viewer"),
            responses=problem_responses(401, 403, 404, 422))
def brand_tracking_dashboard(brand: ManagedBrand, container: ContainerDep, from_day: FromDay = None,
                             to_day: ToDay = None) -> dashboards.Dashboard:
    """The brand's tracking totals between two days, by source, target kind and day."""
    start, end = parse_range(from_day, to_day, container.clock.now().date())
    return dashboards.dashboard(store=container.store.for_brand(brand.id), member_id=BRAND_ROLLUP, start=start, end=end)


@router.get(f"{MANAGER}/members", response_model=dashboards.MemberTotalsPage, **access("manager", level="viewer"),
            responses=problem_responses(401, 403, 404, 422))
def members_tracking_totals(
    brand: ManagedBrand, container: ContainerDep, from_day: FromDay = None, to_day: ToDay = None,
    sort_by: Annotated[str, Query(alias="sortBy", description="|".join(dashboards.SORT_KEYS))] = "clicks",
    source: Annotated[str | None, Query(description="Only this source's counters")] = None,
    currency: Annotated[str | None, Query(description="Currency of a sales sort (default: the largest)")] = None,
    limit: Annotated[int, Query(ge=1, le=dashboards.MAX_MEMBERS_PAGE)] = 50,
    continuation: Annotated[str | None, Query(description="Token of the previous page")] = None,
) -> dashboards.MemberTotalsPage:
    """Each member's tracking totals between two days, best first, one page at a time."""
    start, end = parse_range(from_day, to_day, container.clock.now().date())
    return dashboards.members_totals(store=container.store.for_brand(brand.id), start=start, end=end, sort_by=sort_by,
                                     source=source, currency=currency, limit=limit, continuation=continuation)


@router.get(f"{MANAGER}/members/{{member_id}}", response_model=dashboards.Dashboard,
            **access("manager", level="viewer"), responses=problem_responses(401, 403, 404, 422))
def member_tracking_dashboard(brand: ManagedBrand, member_id: str, container: ContainerDep,
                              from_day: FromDay = None, to_day: ToDay = None) -> dashboards.Dashboard:
    """One member's tracking dashboard, as the member sees it (an unknown member answers 404)."""
    start, end = parse_range(from_day, to_day, container.clock.now().date())
    return dashboards.member_dashboard(store=container.store.for_brand(brand.id), member_id=member_id, start=start,
                                       end=end)

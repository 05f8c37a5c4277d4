"""Conversation metrics in the Manager: the brand's, one store's or one member's, by day and for a period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.catalog import stores as brand_stores
from shared.conversations import dashboards
from shared.crm.campaign_stats import parse_range
from shared.errors import InvalidInput, NotFound

router = APIRouter(tags=["conversation metrics"])


@router.get("/api/v1/manager/brands/{brand_id}/conversation-metrics",
            response_model=dashboards.ConversationDashboard, **access("manager", level="viewer"),
            responses=problem_responses(401, 403, 404, 422))
def conversation_metrics(
    brand: ManagedBrand, container: ContainerDep, from_day: FromDay = None, to_day: ToDay = None,
    member_id: Annotated[str | None, Query(alias="memberId", description="One member's metrics")] = None,
    store_id: Annotated[str | None, Query(alias="storeId", description="One store's (its members' conversations)")]
    = None,
) -> dashboards.ConversationDashboard:
    """The brand's conversation metrics between two UTC days (or one store's, or one member's).

    An unknown member or store answers 404; naming both is a 422.
    """
    now = container.clock.now()
    start, end = parse_range(from_day, to_day, now.date())
    store = container.store.for_brand(brand.id)
    if member_id and store_id:
        raise InvalidInput("Choose a member or a store",
                           errors=[{"field": "storeId", "message": "not with memberId"}])
    scope, scope_id = ("member", member_id) if member_id else ("store", store_id) if store_id else ("brand", "")
    if member_id and store.find("members", member_id) is None:
        raise NotFound("Member not found")
    if store_id and store.find(brand_stores.STORES, store_id) is None:
        raise NotFound("Store not found")
    return dashboards.dashboard(store=store, scope=scope, scope_id=scope_id, start=start, end=end, now=now,
                                abandon_minutes=brand.waiting_list_abandon_minutes)

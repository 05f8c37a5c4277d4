"""Conversation metrics in the App: the member's own requests handled, conversations, dialogues and times."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FromDay, ToDay
from shared.brands import service as brands
from shared.conversations import dashboards
from shared.crm.campaign_stats import parse_range

router = APIRouter(tags=["conversation metrics"])


@router.get("/api/v1/app/{brand_id}/conversation-metrics", response_model=dashboards.ConversationDashboard,
            **access("member"), responses=problem_responses(401, 404, 422))
def my_conversation_metrics(brand_id: str, member: CurrentMember, container: ContainerDep,
                            from_day: FromDay = None, to_day: ToDay = None) -> dashboards.ConversationDashboard:
    """Your conversation metrics between two UTC days, by day and for the period, and your ongoing conversations."""
    now = container.clock.now()
    start, end = parse_range(from_day, to_day, now.date())
    brand = brands.get(store=container.store, brand_id=brand_id)
    return dashboards.dashboard(store=container.store.for_brand(brand_id), scope="member", scope_id=member.id,
                                start=start, end=end, now=now, abandon_minutes=brand.waiting_list_abandon_minutes)

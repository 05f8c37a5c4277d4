"""Widget / site tag: page views and product picks, only enqueued (see shared/tracking/site_events.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, status
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ClientIp, ContainerDep
from functions.http_api.problems import problem_responses
from shared.identity.auth import auth_context
from shared.tracking import site_events

router = APIRouter(prefix="/api/v1/widget/{brand_id}", tags=["widget: site events"])


class SiteEventsAccepted(BaseModel):
    accepted: int


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=SiteEventsAccepted,
             responses=problem_responses(403, 404, 422, 429), **access("public"))
def post_site_events(brand_id: str, request: Request, ip: ClientIp, container: ContainerDep,
                     body: Any = Body(..., description="One event, or an array of 1 to 20 events "
                                      "{type: page_view|product_pick, eventId?, reference?, customerId?, "
                                      "visitorId?, path?, productId?, memberId?}")) -> SiteEventsAccepted:
    """Record page views and product picks of the brand's site (queued; counted by the tracking queue)."""
    context = auth_context(container=container, brand_id=brand_id, ip=ip)
    count = site_events.accept(store=context.store, bus=container.bus, brand=context.brand, hasher=context.hasher,
                               body=body, origin=request.headers.get("origin"), ip_hash=context.ip_hash,
                               now=container.clock.now())
    return SiteEventsAccepted(accepted=count)

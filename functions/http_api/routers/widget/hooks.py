"""The hook bubble in the widget: the invitation a member sent this visitor, and closing it.

The widget names its visitor as the site tag does in its events (the tag's `visitorId`, or the
signed-in client's `customerId`), so the key is the hot list's own. No session is needed to see
the bubble: a visitor who only browses (the widget policy) can be invited; answering it is a
conversation, which asks for the service terms (`POST .../conversations/hook`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.conversations import hooks
from shared.errors import InvalidInput
from shared.identity.auth import auth_context
from shared.privacy.hashing import BrandHasher
from shared.tracking import site_events

router = APIRouter(prefix="/api/v1/widget/{brand_id}/hook", tags=["widget: conversations"])

VisitorId = Annotated[str | None, Query(alias="visitorId", pattern=r"^[A-Za-z0-9_-]{8,128}$",
                                        description="the site tag's temporary visitor id")]
CustomerId = Annotated[str | None, Query(alias="customerId", min_length=1, max_length=200,
                                         description="the signed-in client's customer ID (as in site events)")]


class Hook(BaseModel):
    """An open invitation: show the bubble with the member's profile (`GET .../members/{memberId}`)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    member_id: str = Field(alias="memberId")
    message: str | None = None
    expires_at: datetime = Field(alias="expiresAt")


class HookState(BaseModel):
    hook: Hook | None = Field(None, description="null: no bubble to show")


def _visitor_key(hasher: BrandHasher, visitor_id: str | None, customer_id: str | None) -> str:
    """The visitor's key by the site events' rule (the customer ID first); 422 when neither is given."""
    key = site_events.visitor_key(hasher, customer_id=customer_id, visitor_id=visitor_id)
    if key is None:
        raise InvalidInput("visitorId or customerId is required",
                           errors=[{"field": "visitorId", "message": "give visitorId or customerId"}])
    return key


@router.get("", response_model=HookState, responses=problem_responses(403, 404, 422), **access("public"))
def read_hook(brand_id: str, request: Request, container: ContainerDep, visitor_id: VisitorId = None,
              customer_id: CustomerId = None) -> HookState:
    """The invitation a member sent this visitor, while it is open (the widget asks every few seconds)."""
    context = auth_context(container=container, brand_id=brand_id)
    site_events.check_origin(context.brand, request.headers.get("origin"))
    key = _visitor_key(context.hasher, visitor_id, customer_id)
    found = hooks.pending_hook(store=context.store, visitor_key=key, now=container.clock.now())
    return HookState(hook=Hook.model_validate(found) if found else None)


@router.delete("/{hook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404, 409, 422),
               **access("public"))
def close_hook(brand_id: str, hook_id: str, request: Request, container: ContainerDep, visitor_id: VisitorId = None,
               customer_id: CustomerId = None) -> Response:
    """The visitor closed the bubble: no member invites them again during this visit."""
    context = auth_context(container=container, brand_id=brand_id)
    site_events.check_origin(context.brand, request.headers.get("origin"))
    key = _visitor_key(context.hasher, visitor_id, customer_id)
    hooks.decline(store=context.store, visitor_key=key, hook_id=hook_id, now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)

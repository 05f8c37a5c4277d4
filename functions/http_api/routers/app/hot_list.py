"""The hot list in the App: the visitors on the brand's site now, the likeliest buyers first; canvassing one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.directory import open_brand
from shared.conversations import hooks, hot_list, requests
from shared.errors import Forbidden

router = APIRouter(prefix="/api/v1/app/{brand_id}/hot-list", tags=["app: conversations"])


class _Read(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ScoreReason(_Read):
    """One signal of the score: how much of it the visit had and the points it gave (capped)."""

    signal: Literal["pages", "productsViewed", "productsPicked", "returning", "minutesOnSite"]
    count: int = Field(description="pages seen, distinct products viewed or picked, visits so far, or minutes")
    points: int
    max_points: int = Field(alias="maxPoints")


class Canvass(_Read):
    """A member's invitation to chat, shown to the visitor as the hook bubble while it is open."""

    id: str
    member_id: str = Field(alias="memberId")
    message: str | None = None
    state: Literal["open", "accepted", "declined"]
    at: datetime
    expires_at: datetime = Field(alias="expiresAt")


class HotVisitor(_Read):
    """A visitor on the site: no name, no address, only their visit (Data Protection Guide v4)."""

    id: str
    score: int
    reasons: list[ScoreReason]
    visits: int = Field(description="visits of the site so far, this one included (2 and up: a returning visitor)")
    customer: bool = Field(description="signed in on the brand's site as one of its customers")
    visit_started_at: datetime = Field(alias="visitStartedAt")
    last_seen_at: datetime = Field(alias="lastSeenAt")
    path: str | None = Field(None, description="the page they saw last (path only)")
    products_viewed: list[str] = Field(alias="productsViewed", description="catalog product ids, the latest last")
    products_picked: list[str] = Field(alias="productsPicked")
    canvass: Canvass | None = None


class HotList(_Read):
    items: list[HotVisitor]


class CanvassIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    message: str | None = Field(None, min_length=1, max_length=280,
                                description="the bubble's words (the member's name and photo come with it)")


def _available(member, now: datetime) -> None:
    if not requests.available(member, now):
        raise Forbidden("Only available members see the hot list")


@router.get("", response_model=HotList, responses=problem_responses(401, 403, 404, 422),
            **access("member"))
def read_hot_list(brand_id: str, member: CurrentMember, container: ContainerDep,
                  limit: Annotated[int, Query(ge=1, le=100)] = 50) -> HotList:
    """The visitors on the site now (a page in the last 5 minutes), highest score first, with its reasons.

    Only available members (online or away) see it: 403 otherwise.
    """
    open_brand(container, brand_id)
    now = container.clock.now()
    _available(member, now)
    items = hot_list.hottest(store=container.store.for_brand(brand_id), now=now, limit=limit)
    return HotList(items=[HotVisitor.model_validate(item) for item in items])


@router.post("/{hot_visitor_id}/canvass", status_code=status.HTTP_201_CREATED, response_model=Canvass,
             responses=problem_responses(401, 403, 404, 409, 422), **access("member"))
def canvass_visitor(brand_id: str, hot_visitor_id: str, body: CanvassIn, member: CurrentMember,
                    container: ContainerDep) -> Canvass:
    """Invite a visitor on the site to chat: the widget shows them the hook bubble for 10 minutes.

    One member at a time: 409 `already-canvassed` while another's invitation is open, 409 `hook-closed`
    when the visitor closed an invitation during this visit; 404 for a visitor no longer on the site.
    """
    open_brand(container, brand_id)
    made = hooks.canvass(store=container.store.for_brand(brand_id), member=member, hot_visitor_id=hot_visitor_id,
                         message=body.message, now=container.clock.now())
    return Canvass.model_validate(made)

"""The client's dedicated member in the widget: who it is, choosing one, dropping one's choice."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.directory import open_brand
from functions.http_api.routers.widget.visitors import CurrentAccount
from shared.directory.service import parse_point
from shared.sales import dedicated

router = APIRouter(prefix="/api/v1/widget/{brand_id}/dedicated-member", tags=["widget: dedicated member"])


class DedicatedMember(BaseModel):
    """The client's dedicated member (`memberId` null: none yet), and where it came from."""

    model_config = ConfigDict(populate_by_name=True)

    member_id: str | None = Field(None, alias="memberId")
    source: dedicated.Source | None = None
    assigned_at: datetime | None = Field(None, alias="assignedAt")
    store_id: str | None = Field(None, alias="storeId", description="the store whose members took the client in turn")
    can_choose: bool = Field(alias="canChoose", description="the brand lets clients choose their member")


class DedicatedMemberChoice(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    member_id: str = Field(alias="memberId", min_length=1, max_length=128)


def _read(doc: dict | None, can_choose: bool) -> DedicatedMember:
    return DedicatedMember.model_validate({**(doc or {}), "canChoose": can_choose})


@router.get("", response_model=DedicatedMember, responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def read_dedicated_member(
        brand_id: str, account: CurrentAccount, container: ContainerDep,
        store_id: Annotated[str | None, Query(alias="storeId", max_length=100,
                                              description="the client's home store (the home-store rule)")] = None,
        near: Annotated[str | None, Query(description="lat,lon of the client (the nearest-store rule)")] = None,
) -> DedicatedMember:
    """The client's dedicated member; when they have none, the brand's automatic rule may give one now.

    403 for a temporary account: only a client the brand's site signed in has a dedicated member.
    """
    brand = open_brand(container, brand_id)
    point = parse_point(near) if near else None
    found = dedicated.by_rule(store=container.store.for_brand(brand_id), brand=brand, key=dedicated.client_key(account),
                              now=container.clock.now(), store_id=store_id, near=point)
    return _read(found, brand.dedicated_member_choice)


@router.put("", response_model=DedicatedMember, responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def choose_dedicated_member(brand_id: str, body: DedicatedMemberChoice, account: CurrentAccount,
                            container: ContainerDep) -> DedicatedMember:
    """The client chooses their dedicated member among those the directory lists (404 for another).

    403 when the brand does not let clients choose, or for a temporary account.
    """
    brand = open_brand(container, brand_id)
    chosen = dedicated.choose(store=container.store.for_brand(brand_id), brand=brand, visitor=account,
                              member_id=body.member_id, now=container.clock.now())
    return _read(chosen, brand.dedicated_member_choice)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 403, 404, 409),
               **access("visitor"))
def drop_dedicated_member(brand_id: str, account: CurrentAccount, container: ContainerDep) -> Response:
    """The client drops their dedicated member (a choice or a rule's); one the brand assigned stays: 409."""
    open_brand(container, brand_id)
    dedicated.release(store=container.store.for_brand(brand_id), visitor=account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

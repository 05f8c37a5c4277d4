"""The commission ledger and orders in the App: a member reads their own entries, totals and attributed orders."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.paging import PagingQuery, ShortPagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FirstDay, LastDay
from functions.http_api.routers.common.ledger import CommissionPage, CommissionRead, StateFilter, page_of, read_entry
from shared.crm import order_contacts
from shared.errors import NotFound
from shared.sales import ledger, orders
from shared.sales.models import MemberOrderRead

router = APIRouter()
_APP_TAGS: list[str | Enum] = ["app: commissions"]
_APP_ORDER_TAGS: list[str | Enum] = ["app: orders"]
APP = "/api/v1/app/{brand_id}/commissions"


class CommissionTotals(BaseModel):
    """A member's commissions per state, per currency, in minor units; clawbacks on their own line.

    `pending`, `approved`, `paid` and `reversed` sum the commissions and adjustments in that state
    (never negative); `clawedBack` sums what clawbacks take back of commissions already approved or
    paid, as a positive amount. The member's net commission is pending + approved + paid − clawedBack.
    """

    model_config = ConfigDict(populate_by_name=True)

    pending: dict[str, int]
    approved: dict[str, int]
    paid: dict[str, int]
    reversed: dict[str, int]
    clawed_back: dict[str, int] = Field(alias="clawedBack", description="Taken back after approval or payment")


class MemberOrderPage(BaseModel):
    """A page of the member's orders, newest `placedAt` first; a short page may still carry a continuation."""

    items: list[MemberOrderRead]
    continuation: str | None = None


@router.get(APP, tags=_APP_TAGS, response_model=CommissionPage, responses=problem_responses(401, 404, 422),
            **access("member"))
def my_commissions(member: CurrentMember, container: ContainerDep, paging: PagingQuery, brand_id: str,
                   state: StateFilter = None) -> CommissionPage:
    """The calling member's ledger entries, newest first."""
    pairs, token = ledger.page(store=container.store.for_brand(brand_id), member_id=member.id, state=state,
                               page_size=paging.page_size, continuation=paging.continuation)
    return page_of(pairs, token)


@router.get(f"{APP}/totals", tags=_APP_TAGS, response_model=CommissionTotals, responses=problem_responses(401, 404),
            **access("member"))
def my_commission_totals(member: CurrentMember, container: ContainerDep, brand_id: str) -> CommissionTotals:
    """The calling member's commissions summed per state and currency."""
    return CommissionTotals.model_validate(ledger.totals(store=container.store.for_brand(brand_id),
                                                         member_id=member.id))


@router.get(f"{APP}/{{entry_id}}", tags=_APP_TAGS, response_model=CommissionRead,
            responses=problem_responses(401, 404), **access("member"))
def my_commission(entry_id: str, member: CurrentMember, container: ContainerDep, brand_id: str) -> CommissionRead:
    """One of the calling member's entries (another member's answers 404)."""
    entry, etag = ledger.get(store=container.store.for_brand(brand_id), entry_id=entry_id)
    if entry.member_id != member.id:
        raise NotFound("Commission entry not found")
    return read_entry(entry, etag)


@router.get("/api/v1/app/{brand_id}/orders", tags=_APP_ORDER_TAGS, response_model=MemberOrderPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def my_orders(member: CurrentMember, container: ContainerDep, paging: ShortPagingQuery, brand_id: str,
              from_day: FirstDay = None, to_day: LastDay = None) -> MemberOrderPage:
    """The orders attributed to the calling member, newest first."""
    store = container.store.for_brand(brand_id)
    items, token = orders.list_page(store=store, member_id=member.id, from_day=from_day, to_day=to_day,
                                    page_size=paging.page_size, continuation=paging.continuation)
    return MemberOrderPage(items=[
        orders.for_member(order, contact_id=order_contacts.visible_contact(store=store, member_id=member.id,
                                                                           contact_id=order.contact_id))
        for order in items], continuation=token)

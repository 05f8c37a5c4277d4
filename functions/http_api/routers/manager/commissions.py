"""The commission ledger: members read their own, the Manager lists, approves and marks paid; order reads and lists."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import PagingQuery, ShortPagingQuery
from functions.http_api.problems import problem_responses
from shared.errors import NotFound
from shared.sales import ledger, orders
from shared.sales.models import MemberOrderRead, OrderRead
from shared.tracking.model import AttributionReason

router = APIRouter()
_APP_TAGS: list[str | Enum] = ["app: commissions"]
_MANAGER_TAGS: list[str | Enum] = ["manager: commissions"]
APP = "/api/v1/app/{brand_id}/commissions"
MANAGER = "/api/v1/manager/brands/{brand_id}"
StateFilter = Annotated[ledger.State | None, Query(description="Only entries in this state")]


class CommissionRead(BaseModel):
    """One ledger entry; `etag` guards a state transition (send it back in `etags`)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    member_id: str = Field(alias="memberId")
    order_id: str = Field(alias="orderId")
    kind: str
    amount_minor: int = Field(alias="amountMinor")
    currency: str
    state: str
    cause: str
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    history: list[dict]
    etag: str | None = None


class CommissionPage(BaseModel):
    """A page of ledger entries, newest first."""

    items: list[CommissionRead]
    continuation: str | None = None


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


class CommissionTransition(BaseModel):
    """Entries to move; `etags` (optional, id → etag as listed) refuses entries changed since they were read."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    entry_ids: list[str] = Field(alias="entryIds", min_length=1, max_length=100)
    etags: dict[str, str] | None = None


def _read(entry: ledger.CommissionEntry, etag: str | None = None) -> CommissionRead:
    return CommissionRead.model_validate(entry.model_dump(by_alias=True) | {"etag": etag})


def _page(pairs: list[tuple[ledger.CommissionEntry, str]], token: str | None) -> CommissionPage:
    return CommissionPage(items=[_read(entry, etag) for entry, etag in pairs], continuation=token)


@router.get(APP, tags=_APP_TAGS, response_model=CommissionPage, responses=problem_responses(401, 404, 422),
            **access("member"))
def my_commissions(member: CurrentMember, container: ContainerDep, paging: PagingQuery, brand_id: str,
                   state: StateFilter = None) -> CommissionPage:
    """The calling member's ledger entries, newest first."""
    pairs, token = ledger.page(container.store.for_brand(brand_id), member_id=member.id, state=state,
                               page_size=paging.page_size, continuation=paging.continuation)
    return _page(pairs, token)


@router.get(f"{APP}/totals", tags=_APP_TAGS, response_model=CommissionTotals, responses=problem_responses(401, 404),
            **access("member"))
def my_commission_totals(member: CurrentMember, container: ContainerDep, brand_id: str) -> CommissionTotals:
    """The calling member's commissions summed per state and currency."""
    return CommissionTotals.model_validate(ledger.totals(container.store.for_brand(brand_id), member.id))


@router.get(f"{APP}/{{entry_id}}", tags=_APP_TAGS, response_model=CommissionRead,
            responses=problem_responses(401, 404), **access("member"))
def my_commission(entry_id: str, member: CurrentMember, container: ContainerDep, brand_id: str) -> CommissionRead:
    """One of the calling member's entries (another member's answers 404)."""
    entry, etag = ledger.get(container.store.for_brand(brand_id), entry_id)
    if entry.member_id != member.id:
        raise NotFound("Commission entry not found")
    return _read(entry, etag)


@router.get(f"{MANAGER}/commissions", tags=_MANAGER_TAGS, response_model=CommissionPage,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def brand_commissions(brand: ManagedBrand, container: ContainerDep, paging: PagingQuery,
                      member_id: Annotated[str | None, Query(alias="memberId")] = None,
                      state: StateFilter = None) -> CommissionPage:
    """The brand's ledger, newest first, optionally one member's and/or one state's."""
    pairs, token = ledger.page(container.store.for_brand(brand.id), member_id=member_id, state=state,
                               page_size=paging.page_size, continuation=paging.continuation)
    return _page(pairs, token)


def _move(brand_id: str, data: CommissionTransition, action: ledger.Action, principal, container,
          if_match: str | None) -> CommissionPage:
    etags = dict(data.etags or {})
    if if_match and len(data.entry_ids) == 1:
        etags[data.entry_ids[0]] = if_match.strip('"')
    done = ledger.transition(container.store.for_brand(brand_id), entry_ids=data.entry_ids, action=action,
                             now=container.clock.now(), by=f"manager:{principal.subject}", etags=etags or None)
    return CommissionPage(items=[_read(entry) for entry in done])


@router.post(f"{MANAGER}/commissions/approve", tags=_MANAGER_TAGS, response_model=CommissionPage,
             responses=problem_responses(401, 403, 404, 409, 412, 422), **access("manager", level="editor"))
def approve_commissions(data: CommissionTransition, brand: ManagedBrand, principal: ManagerPrincipal,
                        container: ContainerDep,
                        if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> CommissionPage:
    """Approve pending entries (all or none: 409 when one is not pending)."""
    return _move(brand.id, data, "approve", principal, container, if_match)


@router.post(f"{MANAGER}/commissions/mark-paid", tags=_MANAGER_TAGS, response_model=CommissionPage,
             responses=problem_responses(401, 403, 404, 409, 412, 422), **access("manager", level="admin"))
def pay_commissions(data: CommissionTransition, brand: ManagedBrand, principal: ManagerPrincipal,
                    container: ContainerDep,
                    if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> CommissionPage:
    """Mark approved entries paid (all or none: 409 when one is not approved)."""
    return _move(brand.id, data, "pay", principal, container, if_match)


@router.get(f"{MANAGER}/orders/{{order_id}}", tags=_MANAGER_TAGS, response_model=OrderRead,
            responses=problem_responses(401, 403, 404), **access("manager", level="viewer"))
def brand_order(order_id: str, brand: ManagedBrand, container: ContainerDep) -> OrderRead:
    """One order of the brand with its attribution explanation and commission."""
    return orders.to_read(orders.get(container.store.for_brand(brand.id), order_id)[0])


# --- Order lists: the Manager's (the brand's orders) and a member's (the orders attributed to them) ---
_APP_ORDER_TAGS: list[str | Enum] = ["app: orders"]
FromDay = Annotated[str | None, Query(alias="from", description="First UTC day (YYYY-MM-DD), inclusive")]
ToDay = Annotated[str | None, Query(alias="to", description="Last UTC day (YYYY-MM-DD), inclusive")]
ReasonFilter = Annotated[AttributionReason | None, Query(description="Only orders attributed for this reason")]
OrderStatusFilter = Annotated[Literal["placed", "refunded", "cancelled"] | None,
                              Query(description="Only orders in this status")]


class OrderPage(BaseModel):
    """A page of orders, newest `placedAt` first; a short page may still carry a continuation."""

    items: list[OrderRead]
    continuation: str | None = None


class MemberOrderPage(BaseModel):
    """A page of the member's orders, newest `placedAt` first; a short page may still carry a continuation."""

    items: list[MemberOrderRead]
    continuation: str | None = None


@router.get(f"{MANAGER}/orders", tags=_MANAGER_TAGS, response_model=OrderPage,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def brand_orders(brand: ManagedBrand, container: ContainerDep, paging: ShortPagingQuery,
                 member_id: Annotated[str | None, Query(alias="memberId")] = None, from_day: FromDay = None,
                 to_day: ToDay = None, reason: ReasonFilter = None, status: OrderStatusFilter = None) -> OrderPage:
    """The brand's orders with their attribution, newest first; reason and status filter while paging."""
    items, token = orders.list_page(container.store.for_brand(brand.id), member_id=member_id, from_day=from_day,
                                    to_day=to_day, reason=reason, status=status, page_size=paging.page_size,
                                    continuation=paging.continuation)
    return OrderPage(items=items, continuation=token)


@router.get("/api/v1/app/{brand_id}/orders", tags=_APP_ORDER_TAGS, response_model=MemberOrderPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def my_orders(member: CurrentMember, container: ContainerDep, paging: ShortPagingQuery, brand_id: str,
              from_day: FromDay = None, to_day: ToDay = None) -> MemberOrderPage:
    """The orders attributed to the calling member, newest first."""
    store = container.store.for_brand(brand_id)
    items, token = orders.list_page(store, member_id=member.id, from_day=from_day, to_day=to_day,
                                    page_size=paging.page_size, continuation=paging.continuation)
    return MemberOrderPage(items=[orders.for_member(store, member.id, order) for order in items], continuation=token)

"""The commission ledger and orders in the Manager: list, approve and mark paid; read and list the brand's orders."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.paging import PagingQuery, ShortPagingQuery
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.day_range import FirstDay, LastDay
from functions.http_api.routers.common.ledger import CommissionPage, StateFilter, page_of, read_entry
from shared.sales import ledger, orders
from shared.sales.models import OrderRead
from shared.tracking.models import AttributionReason

router = APIRouter()
_MANAGER_TAGS: list[str | Enum] = ["manager: commissions"]
MANAGER = "/api/v1/manager/brands/{brand_id}"
ReasonFilter = Annotated[AttributionReason | None, Query(description="Only orders attributed for this reason")]
OrderStatusFilter = Annotated[Literal["placed", "refunded", "cancelled"] | None,
                              Query(description="Only orders in this status")]


class CommissionTransition(BaseModel):
    """Entries to move; `etags` (optional, id → etag as listed) refuses entries changed since they were read."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    entry_ids: list[str] = Field(alias="entryIds", min_length=1, max_length=100)
    etags: dict[str, str] | None = None


class OrderPage(BaseModel):
    """A page of orders, newest `placedAt` first; a short page may still carry a continuation."""

    items: list[OrderRead]
    continuation: str | None = None


@router.get(f"{MANAGER}/commissions", tags=_MANAGER_TAGS, response_model=CommissionPage,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def brand_commissions(brand: ManagedBrand, container: ContainerDep, paging: PagingQuery,
                      member_id: Annotated[str | None, Query(alias="memberId")] = None,
                      state: StateFilter = None) -> CommissionPage:
    """The brand's ledger, newest first, optionally one member's and/or one state's."""
    pairs, token = ledger.page(store=container.store.for_brand(brand.id), member_id=member_id, state=state,
                               page_size=paging.page_size, continuation=paging.continuation)
    return page_of(pairs, token)


def _move(brand_id: str, data: CommissionTransition, action: ledger.Action, principal, container,
          if_match: str | None) -> CommissionPage:
    etags = dict(data.etags or {})
    if if_match and len(data.entry_ids) == 1:
        etags[data.entry_ids[0]] = if_match.strip('"')
    done = ledger.transition(store=container.store.for_brand(brand_id), entry_ids=data.entry_ids, action=action,
                             now=container.clock.now(), by=f"manager:{principal.subject}", etags=etags or None)
    return CommissionPage(items=[read_entry(entry) for entry in done])


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
    return orders.to_read(orders.get(store=container.store.for_brand(brand.id), order_id=order_id)[0])


@router.get(f"{MANAGER}/orders", tags=_MANAGER_TAGS, response_model=OrderPage,
            responses=problem_responses(401, 403, 404, 422), **access("manager", level="viewer"))
def brand_orders(brand: ManagedBrand, container: ContainerDep, paging: ShortPagingQuery,
                 member_id: Annotated[str | None, Query(alias="memberId")] = None, from_day: FirstDay = None,
                 to_day: LastDay = None, reason: ReasonFilter = None, status: OrderStatusFilter = None) -> OrderPage:
    """The brand's orders with their attribution, newest first; reason and status filter while paging."""
    items, token = orders.list_page(store=container.store.for_brand(brand.id), member_id=member_id, from_day=from_day,
                                    to_day=to_day, reason=reason, status=status, page_size=paging.page_size,
                                    continuation=paging.continuation)
    return OrderPage(items=items, continuation=token)

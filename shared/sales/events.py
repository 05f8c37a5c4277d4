"""The events the order service raises after each write of an order (docs/events.md).

Each names the order and the change that was written, by the id of its ledger entry
("commission" for the order itself, "u<version>" an update, "r:<refundId>" a refund, "x" the
cancel): the event id is derived from it, so the retry of a call raises the event of its first
try again. The counters and the contact's sales line follow the order's state whichever event
arrives; the CRM makes the order's contact on `OrderPlaced`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.crm.views import OrderCustomer
from shared.events.model import DomainEvent, event_id
from shared.tracking.models import AttributionReason


class OrderEvent(DomainEvent):
    """An order was written: `change` names the write, `member_id` the member credited (None: nobody)."""

    order_id: str = Field(alias="orderId")
    member_id: str | None = Field(alias="memberId")
    change: str


class OrderPlaced(OrderEvent):
    name: ClassVar[str] = "OrderPlaced"

    reason: AttributionReason
    # The customer as the call posted them, on the calls that record the order (its first one, a
    # re-post repairing it). Personal data: never serialized, so never on the queue.
    customer: OrderCustomer | None = Field(None, exclude=True)
    brand_opt_in: bool | None = Field(None, alias="brandOptIn")


class OrderUpdated(OrderEvent):
    name: ClassVar[str] = "OrderUpdated"


class OrderRefunded(OrderEvent):
    name: ClassVar[str] = "OrderRefunded"


class OrderCancelled(OrderEvent):
    name: ClassVar[str] = "OrderCancelled"


def _kind(change: str) -> type[OrderEvent]:
    if change == "commission":
        return OrderPlaced
    if change == "x":
        return OrderCancelled
    return OrderRefunded if change.startswith("r:") else OrderUpdated


def of_change(order: dict, *, brand_id: str, now: datetime, **extra) -> OrderEvent:
    """The event of the order's latest change (as its `ledgerChange` names it)."""
    change = (order.get("ledgerChange") or {}).get("suffix", "commission")
    kind = _kind(change)
    fields = {"reason": order["attribution"]["reason"]} if kind is OrderPlaced else {}
    return kind(id=event_id(kind.name, brand_id, order["orderId"], change), brand_id=brand_id, occurred_at=now,
                order_id=order["orderId"], member_id=order["attribution"]["memberId"], change=change,
                **fields, **(extra if kind is OrderPlaced else {}))

"""Orders from brand platforms: recorded once, attributed with a reason, commissioned; the rest by events.

The order service writes the order and its ledger entries, then publishes the event of the write
(`shared.sales.events`: OrderPlaced, OrderUpdated, OrderRefunded, OrderCancelled). Its handlers,
subscribed in the composition root, do the rest: the counters (`shared.sales.handlers`), the
order's contact and its line in the contact's sales history (`shared.crm.handlers`).

The order id is the document id, so the same order posted twice is one document. Each write of
the order (its create, and each update / refund / cancel winning the etag-guarded replace) also
writes the counter changes it causes as pending on the order; the handler counts them exactly
once (`order_counts`), on this call's event or, after a crash, on the event the next call on the
order raises again (a retried change, a re-post). The ledger, the contact and the sales line are
state-based, so a re-post of the same order repairs them. A voucher code is used by the order id
before the order is written (shared/crm/vouchers.py), so only this order may use it again. The
brand's customer ID and the site's temporary visitor id are keyed hashes from the first line of
the service on.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, get_args

from pydantic import ValidationError

from shared.brands.models import Brand
from shared.brands.service import invalid_input
from shared.clock import isoformat, parse_instant
from shared.crm import vouchers
from shared.crm.campaign_stats import parse_day
from shared.crm.models import SaleRef
from shared.crm.sales_history import OrderSale
from shared.crm.service import Hasher
from shared.crm.views import ContactCreate
from shared.errors import Conflict, InvalidInput, NotFound, TransientError
from shared.events.model import Publisher
from shared.identity import repository, sso
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch, Filter, PatchOp, filtered_page
from shared.ports.store_retry import retrying, update_document
from shared.sales import commissions, ledger, order_counts
from shared.sales import events as order_events
from shared.sales.attribution import Attribution, OrderFacts, attribute
from shared.sales.models import MemberOrderRead, OrderCreate, OrderLine, OrderRead, OrderUpdate, RefundCreate
from shared.tracking import visits
from shared.tracking.models import AttributionReason

CONTAINER = "orders"
# An order "placed" in the future would stretch the attribution window forward.
_FUTURE_SKEW = timedelta(minutes=10)
# Optimistic retries of a change to one order (refunds, updates and ledger marks contend on it).
_RETRIES = 10
# A ledger mark older than this is a crashed caller's (see `_settle`).
_LOCK_STALE = timedelta(minutes=1)
# How long a re-post waits (real time) for another call holding the order's ledger: a live one is done
# within moments (a few store calls); past that it may be a crashed one, which only staleness frees.
_HOLDER_WAIT_SECONDS = 1.0
_HOLDER_POLL_SECONDS = 0.05
log = logging.getLogger(__name__)


class OrderConflict(Conflict):
    code = "order-conflict"
    title = "This order id was already posted with another content; send an update instead"


class OrderClosed(Conflict):
    code = "order-closed"
    title = "This order is cancelled or fully refunded"


class OrderInProgress(TransientError):
    """A re-post met the order's ledger held by another call, live or crashed: retry once it is free."""

    code = "order-in-progress"
    title = "This order is still being recorded; send it again shortly"


class RefundConflict(Conflict):
    code = "refund-conflict"
    title = "This refund id was already used with another amount"


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message}])


def _check_lines(amount_minor: int, lines: list[OrderLine]) -> None:
    if sum(line.amount_minor for line in lines) != amount_minor:
        raise _field_error("lines", "the lines' amounts must add up to amountMinor")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _vendor_id(store: BrandStore, hasher: Hasher, data: OrderCreate) -> str | None:
    if data.vendor is None:
        return None
    try:
        member_id = data.vendor.member_id or sso.member_id_of(store=store, hasher=hasher,
                                                             sso_subject=data.vendor.sso_subject or "")
        repository.get_member(store=store, member_id=member_id)
    except NotFound as exc:
        raise _field_error("vendor", "no member of this brand has this id or SSO subject") from exc
    return member_id


def _voucher(store: BrandStore, hasher: Hasher, data: OrderCreate, placed_at: datetime,
             now: datetime) -> vouchers.Voucher | None:
    """The voucher the purchase shows, used by it now (or before, by this same order); None without a code."""
    if data.voucher_code is None:
        return None
    if data.channel != "in_store":
        raise _field_error("voucherCode", "a voucher is shown at a store's till: the channel must be in_store")
    return vouchers.redeem(store=store, hasher=hasher, code=data.voucher_code, reference=data.order_id,
                           placed_at=placed_at, now=now)


def _fingerprint(hasher: Hasher, data: OrderCreate) -> str:
    # Keyed: the body holds the clear customer id, and a plain digest of it would be a reversible hash.
    # Fields added later are left out while unset, so orders fingerprinted before them still match their re-posts.
    unset_later = {"store_id"} if data.store_id is None else set()
    canonical = json.dumps(data.model_dump(mode="json", by_alias=True, exclude=unset_later), sort_keys=True,
                           separators=(",", ":"))
    return hasher("customer_id", f"order-body:{canonical}")


def _priced_lines(brand: Brand, channel: str, currency: str, lines: list[OrderLine],
                  attributed: bool) -> tuple[list[dict[str, Any]], int]:
    priced = commissions.for_lines(brand.commission_rules or [], channel=channel, currency=currency, lines=lines)
    docs = []
    for line, price in zip(lines, priced, strict=True):
        docs.append(line.model_dump(mode="json", by_alias=True) | {
            "commissionMinor": price.amount_minor if attributed else 0,
            "ruleIndex": price.rule_index if attributed else None})
    return docs, sum(doc["commissionMinor"] for doc in docs)


def entry_ids(order: dict[str, Any]) -> list[str]:
    """Every ledger entry id the order's events may have written, oldest first."""
    order_id = order["orderId"]
    ids = [f"{order_id}:commission"] + [f"{order_id}:u{version}" for version in range(1, order["version"] + 1)]
    ids += [f"{order_id}:r:{refund['refundId']}" for refund in order.get("refunds") or []]
    return ids + ([f"{order_id}:x"] if order["status"] == "cancelled" else [])


def count_pending(*, store: BrandStore, order_id: str) -> None:
    """Count the order's pending counter changes once each, record them on the order, then sweep the marks."""
    order, _ = get(store=store, order_id=order_id)
    token = uuid.uuid4().hex
    for entry in order_counts.pending(order):
        marks = order_counts.count(store=store, order=order, entry=entry, token=token)
        _transition(store, order_id, partial(order_counts.recorded, change=entry["change"], marks=marks))
    order_counts.sweep(store=store, order=get(store=store, order_id=order_id)[0])


def _change(cause: str, suffix: str) -> dict[str, str]:
    """What the ledger names an order's latest change by: its cause and its entry's id suffix."""
    return {"cause": cause, "suffix": suffix}


def _settle(store: BrandStore, order_id: str, now: datetime) -> bool:
    """Bring the ledger to the order's latest state, one caller at a time per order; False when left to another.

    Two refunds of one order at the same moment must not both compute an adjustment from the same
    ledger. So the settling caller marks the order (`ledgerLock`, etag-guarded), settles, and
    unmarks it under the etag it holds: a change landing meanwhile changes that etag, and the
    holder settles again with the newer state. A caller finding the order marked leaves the work
    to the holder, which cannot miss its change. A mark older than a minute is a crashed caller's
    and is taken over (until then, a caller finding it cannot tell a crashed holder from a live one).
    """
    token = uuid.uuid4().hex

    def take_mark() -> dict[str, Any] | None:
        order, etag = get(store=store, order_id=order_id)
        mark = order.get("ledgerLock")
        if mark and mark["token"] != token and parse_instant(mark["at"]) > now - _LOCK_STALE:
            return None
        return store.replace(CONTAINER, order | {"ledgerLock": {"token": token, "at": isoformat(now)}}, etag=etag)

    order = retrying(take_mark, attempts=_RETRIES, exhausted=Conflict("The order changed during the call; try again"))
    if order is None:
        return False
    while True:
        change = order.get("ledgerChange") or _change("order", "commission")
        ledger.settle(store=store, order=order, entry_ids=entry_ids(order), due_minor=order["commissionMinor"],
                      cause=change["cause"], entry_suffix=change["suffix"], now=now)
        released = {key: value for key, value in order.items() if key != "ledgerLock"}
        try:
            store.replace(CONTAINER, released, etag=order["_etag"])
            return True
        except EtagMismatch:
            order, _ = get(store=store, order_id=order_id)  # the order changed while we settled: settle its new state
            if (order.get("ledgerLock") or {}).get("token") != token:
                return False  # taken over as stale: the new holder settles


def to_read(doc: dict[str, Any]) -> OrderRead:
    """The API view of a stored order."""
    return OrderRead.model_validate(doc)


def get(*, store: BrandStore, order_id: str) -> tuple[dict[str, Any], str]:
    """The stored order and its etag; 404 when unknown."""
    doc = store.find(CONTAINER, order_id)
    if doc is None:
        raise NotFound("Order not found")
    return doc, doc["_etag"]


def link_contact(*, store: BrandStore, order_id: str, contact_id: str | None, refused: str | None) -> None:
    """Name the order's contact (or why it has none), as the CRM decided it on OrderPlaced."""
    store.patch(CONTAINER, order_id, [PatchOp("set", "contactId", contact_id)] if contact_id else [
        PatchOp("set", "contactRefused", refused)])


def sale_of(order: dict[str, Any]) -> SaleRef:
    """The order's line in its contact's sales history: date and amount, what was refunded, its status."""
    return SaleRef(reference=order["orderId"], at=parse_instant(order["placedAt"]), amount_minor=order["amountMinor"],
                   currency=order["currency"], refunded_minor=order["refundedMinor"], status=order["status"])


def sale_state(store: BrandStore, order_id: str) -> OrderSale | None:
    """The order's line in its contact's sales history as the order stands (None: no contact to credit)."""
    order = store.find(CONTAINER, order_id)
    if order is None or not order.get("contactId") or order["attribution"]["memberId"] is None:
        return None
    return OrderSale(contact_id=order["contactId"], member_id=order["attribution"]["memberId"], sale=sale_of(order))


def _placed(order: dict[str, Any], data: OrderCreate, brand_id: str, now: datetime) -> order_events.OrderEvent:
    """OrderPlaced, with the customer and the brand opt-in of the call (the CRM's contact is made from them)."""
    return order_events.of_change(order, brand_id=brand_id, now=now, customer=data.customer,
                                  brand_opt_in=data.brand_opt_in)


def _finish(store: BrandStore, events: Publisher, brand_id: str, order: dict[str, Any], data: OrderCreate,
            now: datetime) -> dict[str, Any]:
    """Settle the ledger and publish OrderPlaced; `effects` is "applied" once both are done.

    A crash before the mark leaves the order "pending", and a re-post does both again (the ledger and
    every handler are state-based, the event keeps its id).
    """
    settled = _settle(store, order["id"], now)
    events.publish(_placed(order, data, brand_id, now))
    # Left to another holder (perhaps a crashed one), the ledger is not known right: the next re-post repairs.
    if not settled:
        return get(store=store, order_id=order["id"])[0]
    return store.patch(CONTAINER, order["id"], [PatchOp("set", "effects", "applied")])


def place(*, store: BrandStore, platform: BrandStore, brand: Brand, hasher: Hasher, master_key: str,
          events: Publisher, data: OrderCreate, now: datetime) -> tuple[OrderRead, bool]:
    """Record and attribute an order; (order, False) when the same order was already posted."""
    _check_lines(data.amount_minor, data.lines)
    placed_at = _utc(data.placed_at)
    if placed_at > now + _FUTURE_SKEW:
        raise _field_error("placedAt", "an order cannot be placed in the future")
    if data.customer is not None:
        try:
            ContactCreate.model_validate(data.customer.model_dump(exclude_none=True))
        except ValidationError as exc:
            raise invalid_input(exc) from exc
    fingerprint = _fingerprint(hasher, data)
    if (existing := store.find(CONTAINER, data.order_id)) is not None:
        return _replay(store, events, brand.id, existing, data, fingerprint, now), False
    vendor_id = _vendor_id(store, hasher, data)
    # Last of the checks: a voucher is used by this order id from here on, even if the order is never written.
    voucher = _voucher(store, hasher, data, placed_at, now)
    facts = OrderFacts(channel=data.channel, placed_at=placed_at, attribution_ref=data.attribution_ref,
                       customer_key=visits.customer_key(hasher, data.customer_key) if data.customer_key else None,
                       visitor_key=visits.temporary_key(hasher, data.visitor_id) if data.visitor_id else None,
                       vendor_member_id=vendor_id, voucher_member_id=voucher.member_id if voucher else None,
                       voucher_id=voucher.id if voucher else None, store_id=data.store_id)
    decided: Attribution = attribute(store=store, platform=platform, brand=brand, master_key=master_key, facts=facts)
    # A voucher's contact is the purchase's contact, when the voucher's member is the one credited.
    contact_id = voucher.contact_id if voucher and decided.reason == "voucher" else None
    lines, full = _priced_lines(brand, data.channel, data.currency, data.lines, decided.member_id is not None)
    order = order_counts.with_change({
        "id": data.order_id, "orderId": data.order_id, "channel": data.channel, "placedAt": isoformat(placed_at),
        "currency": data.currency, "amountMinor": data.amount_minor, "lines": lines, "status": "placed",
        "fullCommissionMinor": full, "commissionMinor": full, "refundedMinor": 0, "refunds": [], "version": 0,
        "ledgerChange": _change("order", "commission"),
        "memberId": decided.member_id, "attribution": decided.model_dump(mode="json", by_alias=True),
        "customerKey": facts.customer_key, "visitorKey": facts.visitor_key,
        "voucherPresented": data.voucher_code is not None, "fingerprint": fingerprint,
        "contactId": contact_id, "contactRefused": None, "effects": "pending",
        "createdAt": isoformat(now), "updatedAt": isoformat(now),
    }, "commission", orders=1, sales=data.amount_minor, commission=full)
    try:
        created = store.create(CONTAINER, order)
    except DocumentConflict:
        # The same order posted concurrently: the other call applies the effects.
        return _replay(store, events, brand.id, store.get(CONTAINER, data.order_id), data, fingerprint, now,
                       repair=False), False
    log.info("order %s attributed (%s) to %s", data.order_id, decided.reason, decided.member_id)
    return to_read(_finish(store, events, brand.id, created, data, now)), True


def _replay(store: BrandStore, events: Publisher, brand_id: str, existing: dict[str, Any], data: OrderCreate,
            fingerprint: str, now: datetime, repair: bool = True) -> OrderRead:
    if existing["fingerprint"] != fingerprint:
        raise OrderConflict(f"Order {data.order_id} exists with another content")
    if not repair:
        return to_read(existing)
    if existing.get("effects") != "applied" and existing["status"] == "placed" and existing["version"] == 0:
        existing = _finish(store, events, brand_id, existing, data, now)
        if existing.get("effects") != "applied":
            existing = _after_holder(store, events, brand_id, existing, data, now)
    else:
        # The event of the order's latest change again: what a crashed call left undone (its counts, its
        # line) is done now. Without the customer: the order's contact was decided with its effects.
        events.publish(order_events.of_change(existing, brand_id=brand_id, now=now))
        existing, _ = get(store=store, order_id=existing["id"])
    return to_read(existing)


def _after_holder(store: BrandStore, events: Publisher, brand_id: str, order: dict[str, Any], data: OrderCreate,
                  now: datetime) -> dict[str, Any]:
    """Let a live holder of the order's ledger finish (or finish after it); else OrderInProgress with Retry-After.

    Answering 200 here would tell the platform the order is recorded while its ledger is not: a call
    killed while it held the ledger leaves a mark that only staleness frees, so the platform is told
    when to post again instead.
    """
    deadline = time.monotonic() + _HOLDER_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(_HOLDER_POLL_SECONDS)
        order, _ = get(store=store, order_id=order["id"])
        if order.get("effects") == "applied":
            return order
        if not order.get("ledgerLock"):
            order = _finish(store, events, brand_id, order, data, now)
            if order.get("effects") == "applied":
                return order
    mark = order.get("ledgerLock") or {"at": isoformat(now)}
    free_in = (parse_instant(mark["at"]) + _LOCK_STALE - now).total_seconds()
    raise OrderInProgress(f"Order {order['orderId']} is still being recorded; send it again",
                          retry_after=max(1, math.ceil(free_in)))


def _transition(store: BrandStore, order_id: str, change) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Replace the order with `change(order)` under its etag; (before, after), or None when nothing changes."""

    def of_order(order: dict[str, Any] | None) -> dict[str, Any] | None:
        if order is None:
            raise NotFound("Order not found")
        return change(order)

    return update_document(store, CONTAINER, order_id, of_order, attempts=_RETRIES,
                           exhausted=Conflict("The order changed during the call; try again"))


def update(*, store: BrandStore, brand: Brand, events: Publisher, order_id: str, data: OrderUpdate,
           now: datetime) -> OrderRead:
    """New amount and lines: sales and commission follow (recomputed while pending, adjusted otherwise)."""
    _check_lines(data.amount_minor, data.lines)

    def change(order: dict[str, Any]) -> dict[str, Any] | None:
        if order["status"] != "placed":
            raise OrderClosed(f"Order {order_id} is {order['status']}")
        if data.amount_minor < order["refundedMinor"]:
            raise _field_error("amountMinor", "the new amount is below what was already refunded")
        lines, full = _priced_lines(brand, order["channel"], order["currency"], data.lines,
                                    order["memberId"] is not None)
        if data.amount_minor == order["amountMinor"] and lines == order["lines"]:
            return None
        due = commissions.due_after_refunds(full, amount_minor=data.amount_minor,
                                            refunded_minor=order["refundedMinor"])
        suffix = f"u{order['version'] + 1}"
        return order_counts.with_change(order | {
            "amountMinor": data.amount_minor, "lines": lines, "fullCommissionMinor": full, "commissionMinor": due,
            "version": order["version"] + 1, "updatedAt": isoformat(now), "ledgerChange": _change("update", suffix),
        }, suffix, sales=data.amount_minor - order["amountMinor"], commission=due - order["commissionMinor"])

    return _after_change(store, events, brand.id, order_id, _transition(store, order_id, change), now)


def refund(*, store: BrandStore, brand: Brand, events: Publisher, order_id: str, data: RefundCreate,
           now: datetime) -> OrderRead:
    """Refund part or all of an order (once per refund id): the commission shrinks in proportion."""
    def change(order: dict[str, Any]) -> dict[str, Any] | None:
        known = next((item for item in order["refunds"] if item["refundId"] == data.refund_id), None)
        if known is not None:
            if known["amountMinor"] != data.amount_minor:
                raise RefundConflict(f"Refund {data.refund_id} exists with another amount")
            return None
        if order["status"] != "placed":
            raise OrderClosed(f"Order {order_id} is {order['status']}")
        if data.amount_minor > order["amountMinor"] - order["refundedMinor"]:
            raise _field_error("amountMinor", "more than what remains of the order")
        refunded = order["refundedMinor"] + data.amount_minor
        item = {"refundId": data.refund_id, "amountMinor": data.amount_minor, "at": isoformat(now),
                "lines": [line.model_dump(mode="json", by_alias=True) for line in data.lines or []]}
        due = commissions.due_after_refunds(order["fullCommissionMinor"], amount_minor=order["amountMinor"],
                                            refunded_minor=refunded)
        full_refund = refunded == order["amountMinor"]
        suffix = f"r:{data.refund_id}"
        return order_counts.with_change(order | {
            "refunds": [*order["refunds"], item], "refundedMinor": refunded, "commissionMinor": due,
            "status": "refunded" if full_refund else "placed", "updatedAt": isoformat(now),
            "ledgerChange": _change(f"refund:{data.refund_id}", suffix),
        }, suffix, refunds=1, sales=-data.amount_minor, commission=due - order["commissionMinor"],
            orders=-1 if full_refund else 0)

    return _after_change(store, events, brand.id, order_id, _transition(store, order_id, change), now)


def cancel(*, store: BrandStore, brand: Brand, events: Publisher, order_id: str, now: datetime) -> OrderRead:
    """Cancel an order: what remains of its sales and commission is reversed (again: no change)."""
    def change(order: dict[str, Any]) -> dict[str, Any] | None:
        if order["status"] == "cancelled":
            return None
        cancelled = order | {"status": "cancelled", "commissionMinor": 0, "updatedAt": isoformat(now),
                             "ledgerChange": _change("cancel", "x")}
        if order["status"] != "placed":
            return cancelled  # fully refunded: its counts were reversed by the last refund
        return order_counts.with_change(cancelled, "x", orders=-1,
                                        sales=-(order["amountMinor"] - order["refundedMinor"]),
                                        commission=-order["commissionMinor"])

    return _after_change(store, events, brand.id, order_id, _transition(store, order_id, change), now)


def _after_change(store: BrandStore, events: Publisher, brand_id: str, order_id: str,
                  result: tuple[dict[str, Any], dict[str, Any]] | None, now: datetime) -> OrderRead:
    # Also for a retried call that changed nothing: what the first one left undone is done now.
    _settle(store, order_id, now)
    order = result[1] if result is not None else get(store=store, order_id=order_id)[0]
    events.publish(order_events.of_change(order, brand_id=brand_id, now=now))
    return to_read(order)


# --- Listing (Manager: the brand's orders; App: a member's own) ------------------------------
ORDER_STATUSES = ("placed", "refunded", "cancelled")
# Reason and status are not indexed: they are filtered while paging, and one call reads at most
# this many store pages before answering a short page with a continuation.
_LIST_MAX_READS = 10


def list_page(*, store: BrandStore, member_id: str | None = None, from_day: str | None = None,
              to_day: str | None = None, reason: str | None = None, status: str | None = None,
              page_size: int = 50, continuation: str | None = None) -> tuple[list[OrderRead], str | None]:
    """Orders newest `placedAt` first; UTC days inclusive; 422 names the field. Short pages may continue."""
    start, end = parse_day(from_day, "from"), parse_day(to_day, "to")
    if start and end and start > end:
        raise _field_error("from", "must not be after to")
    if reason is not None and reason not in get_args(AttributionReason):
        raise _field_error("reason", "unknown attribution reason")
    if status is not None and status not in ORDER_STATUSES:
        raise _field_error("status", "unknown order status")
    if not 1 <= page_size <= 100:
        raise _field_error("pageSize", "between 1 and 100")
    # Only indexed paths in the store query: memberId and the placedAt range (stored as "...Z" text).
    filters = [Filter("memberId", "=", member_id)] if member_id else []
    if start:
        filters.append(Filter("placedAt", ">=", f"{start.isoformat()}T00:00:00Z"))
    if end:
        filters.append(Filter("placedAt", "<", f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"))
    page = filtered_page(
        store, CONTAINER,
        lambda doc: (reason is None or doc["attribution"]["reason"] == reason) and (
            status is None or doc["status"] == status),
        page_size=page_size, continuation=continuation, max_reads=_LIST_MAX_READS,
        filters=filters, order_by="placedAt", descending=True)
    return [to_read(doc) for doc in page.items], page.continuation


def for_member(order: OrderRead, *, contact_id: str | None) -> MemberOrderRead:
    """The member's view of an order attributed to them, naming `contact_id` (the contact as the member sees it)."""
    # Notes name members whose rule was skipped (and why): another member's status is not this member's business.
    explanation = {key: value for key, value in order.attribution.explanation.items() if key != "notes"}
    attribution = order.attribution.model_copy(update={"explanation": explanation})
    return MemberOrderRead.model_validate(order.model_dump(exclude={"attribution", "contact_refused"}) | {
        "attribution": attribution, "contact_id": contact_id})

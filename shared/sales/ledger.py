"""The commission ledger: what each member is owed, entry by entry, in minor units of a currency.

One `commission` entry per attributed order; later changes add entries instead of rewriting
history once the Manager has acted: an `adjustment` (positive) or a `clawback` (negative, e.g.
a refund of a commission already paid: paid money is not un-paid, it is taken back later).
While an entry is still pending it is simply recomputed. States: pending → approved → paid,
and pending or approved → reversed (a cancel or a full refund). Transitions are guarded by the
document's etag, so a Manager approval racing a refund never lands on a reversed entry.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.clock import isoformat
from shared.errors import Conflict, NotFound
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch, Filter, Page
from shared.ports.store_retry import retrying

CONTAINER = "commissions"
State = Literal["pending", "approved", "paid", "reversed"]
Kind = Literal["commission", "adjustment", "clawback"]
Action = Literal["approve", "pay"]
# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending"}), "approved"),
    "pay": (frozenset({"approved"}), "paid"),
}
log = logging.getLogger(__name__)


class IllegalTransition(Conflict):
    code = "commission-illegal-transition"
    title = "This commission entry is not in a state that allows this"


class CommissionEntry(CamelModel):
    """One ledger entry."""

    id: str
    member_id: str
    order_id: str
    kind: Kind
    amount_minor: int
    currency: str
    state: State = "pending"
    cause: str  # "order", "update", "refund:<id>", "cancel"
    created_at: datetime
    updated_at: datetime
    history: list[dict[str, Any]] = Field(default_factory=list)


def _doc(entry: CommissionEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json", by_alias=True) | {
        "createdAt": isoformat(entry.created_at), "updatedAt": isoformat(entry.updated_at)}


def _load(doc: dict[str, Any]) -> tuple[CommissionEntry, str]:
    return CommissionEntry.model_validate(doc), doc["_etag"]


def get(*, store: BrandStore, entry_id: str) -> tuple[CommissionEntry, str]:
    """One entry and its etag; 404 when missing."""
    doc = store.find(CONTAINER, entry_id)
    if doc is None:
        raise NotFound("Commission entry not found")
    return _load(doc)


def _set_state(store: BrandStore, entry: CommissionEntry, etag: str, state: str, now: datetime, by: str,
               amount: int | None = None) -> CommissionEntry:
    changed = entry.model_copy(update={
        "state": state, "updated_at": now, "amount_minor": entry.amount_minor if amount is None else amount,
        "history": [*entry.history, {"state": state, "at": isoformat(now), "by": by}]})
    store.replace(CONTAINER, _doc(changed), etag=etag)
    return changed


def _create(store: BrandStore, entry: CommissionEntry) -> None:
    try:
        store.create(CONTAINER, _doc(entry))
    except DocumentConflict:
        pass  # the same cause applied already (a retry): one entry stands


def settle(*, store: BrandStore, order: dict[str, Any], entry_ids: list[str], due_minor: int, cause: str,
           entry_suffix: str, now: datetime) -> None:
    """Bring the order's ledger to `due_minor`; `entry_ids` are the ids its past events may have written."""
    member_id = order["attribution"]["memberId"]
    if member_id is None:
        return
    ids = [entry_id for entry_id in entry_ids if store.find(CONTAINER, entry_id) is not None]
    base = {"member_id": member_id, "order_id": order["orderId"], "currency": order["currency"],
            "created_at": now, "updated_at": now}
    if not ids:
        entry_id = f"{order['orderId']}:commission"
        _create(store, CommissionEntry(id=entry_id, kind="commission", amount_minor=due_minor, cause=cause,
                                       history=[{"state": "pending", "at": isoformat(now), "by": "system"}], **base))
        return
    # A Manager transition landing meanwhile makes a write lose: read again and settle again.
    retrying(lambda: _settle_existing(store, ids, base, due_minor, cause, entry_suffix, now), attempts=3,
             exhausted=Conflict("The commission changed during the call; try again"))


def _settle_existing(store: BrandStore, ids: list[str], base: dict[str, Any], due: int, cause: str, suffix: str,
                     now: datetime) -> None:
    entries = [get(store=store, entry_id=entry_id) for entry_id in ids]
    live = [(entry, etag) for entry, etag in entries if entry.state != "reversed"]
    current = sum(entry.amount_minor for entry, _ in live)
    if due == current:
        return
    if due == 0:
        # Cancelled or fully refunded: what is not paid yet is reversed, what was paid is clawed back.
        for entry, etag in live:
            if entry.state in ("pending", "approved"):
                _set_state(store, entry, etag, "reversed", now, "system")
        paid = sum(entry.amount_minor for entry, _ in live if entry.state == "paid")
        if paid == 0:
            return
        delta = -paid
    elif len(live) == 1 and live[0][0].state == "pending":
        entry, etag = live[0]
        _set_state(store, entry, etag, "pending", now, "system", amount=due)
        return
    else:
        delta = due - current
    entry_id = f"{base['order_id']}:{suffix}"
    _create(store, CommissionEntry(id=entry_id, kind="adjustment" if delta > 0 else "clawback", amount_minor=delta,
                                   cause=cause, history=[{"state": "pending", "at": isoformat(now), "by": "system"}],
                                   **base))


def transition(*, store: BrandStore, entry_ids: list[str], action: Action, now: datetime, by: str,
               etags: dict[str, str] | None = None) -> list[CommissionEntry]:
    """Approve or mark paid: every entry is checked first (409 and nothing written if one may not move)."""
    allowed_from, to_state = TRANSITIONS[action]
    loaded = [get(store=store, entry_id=entry_id) for entry_id in dict.fromkeys(entry_ids)]
    for entry, etag in loaded:
        if entry.state not in allowed_from:
            raise IllegalTransition(f"Entry {entry.id} is {entry.state}")
        if etags and entry.id in etags and etags[entry.id] != etag:
            raise EtagMismatch(f"Entry {entry.id} changed since it was read")
    done = []
    for entry, etag in loaded:
        try:
            done.append(_set_state(store, entry, etag, to_state, now, by))
        except EtagMismatch as exc:
            raise IllegalTransition(f"Entry {entry.id} changed during the call") from exc
    log.info("commission entries %s: %d %s", action, len(done), to_state)
    return done


def page(*, store: BrandStore, member_id: str | None = None, state: str | None = None, page_size: int = 50,
         continuation: str | None = None) -> tuple[list[tuple[CommissionEntry, str]], str | None]:
    """Entries newest first, optionally of one member and/or one state."""
    filters = [Filter("memberId", "=", member_id)] if member_id else []
    if state:
        filters.append(Filter("state", "=", state))
    result: Page = store.query(CONTAINER, filters=filters, order_by="createdAt", descending=True,
                               page_size=page_size, continuation=continuation)
    return [_load(doc) for doc in result.items], result.continuation


TOTAL_LINES = ("pending", "approved", "paid", "reversed", "clawedBack")


def total_line(entry: dict[str, Any]) -> str | None:
    """The line of the totals an entry counts on: its state, or `clawedBack` for a clawback (None: undone).

    A clawback takes back money already paid (or approved): summed with the commissions of its state
    it made `pending` negative, which reports nothing that happened. So commissions and adjustments
    count on their state's line, and clawbacks on their own line, as the positive amount taken back,
    whatever their own state; a clawback reversed since (the order cancelled before it was settled)
    took nothing back and counts nowhere.
    """
    if entry["kind"] != "clawback":
        return entry["state"]
    return None if entry["state"] == "reversed" else "clawedBack"


def totals(*, store: BrandStore, member_id: str) -> dict[str, dict[str, int]]:
    """A member's amounts per line and currency: {"pending": {"EUR": 1200}, ..., "clawedBack": {"EUR": 399}}."""
    docs = store.query_all(CONTAINER, filters=[Filter("memberId", "=", member_id)],
                           fields=("kind", "state", "amountMinor", "currency"))
    result: dict[str, dict[str, int]] = {line: {} for line in TOTAL_LINES}
    for doc in docs:
        line = total_line(doc)
        if line is None:
            continue
        per_currency = result[line]
        per_currency[doc["currency"]] = per_currency.get(doc["currency"], 0) + abs(int(doc["amountMinor"]))
    return result

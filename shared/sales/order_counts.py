"""An order's counter changes: written with the change that causes them, counted exactly once.

Each change of an order that moves counters is named like its ledger entry ("commission" for the
order itself, "u<version>" an update, "r:<refundId>" a refund, "x" the cancel) and written on the
order document, in the same write as the change, under `counts.pending` with its deltas. Then
`count` applies each pending change to the order's four counter documents (member and brand, by
source and target and in the day totals) through `counted_once.add_once`; the order service
records it under `counts.counted` with the token of the mark that counted on each document
(`recorded`, an etag-guarded replace of the order), and `sweep` removes the marks.

Every call on the order (the first one, a retried update / refund / cancel, a re-post) counts
what is still pending, so whatever the moment of a crash a change is either pending (and counted
by the next call, skipping the documents it already marked) or counted, never lost, never twice.
"""

from __future__ import annotations

from typing import Any

from shared.clock import parse_instant
from shared.ports.store import BrandStore
from shared.tracking import counted_once, counters
from shared.tracking.counters import CounterKey, Deltas
from shared.tracking.models import day_of

FIELD = "counts"


def _owner(order: dict[str, Any]) -> str:
    return f"order:{order['orderId']}"


def keys(order: dict[str, Any]) -> list[CounterKey]:
    """The counter documents an attributed order moves: its member's and the brand's, detail and day totals."""
    attribution = order["attribution"]
    return list(counters.for_member(attribution["memberId"], day_of(parse_instant(order["placedAt"])),
                                    attribution["source"], attribution["targetKind"], {}))


def with_change(order: dict[str, Any], change: str, *, orders: int = 0, refunds: int = 0, sales: int = 0,
                commission: int = 0) -> dict[str, Any]:
    """The order document with one more pending counter change (as it was when unattributed or all zero)."""
    currency = order["currency"]
    named = {"orders": orders, "refunds": refunds, f"salesMinor.{currency}": sales,
             f"commissionMinor.{currency}": commission}
    deltas = {path: value for path, value in named.items() if value}
    if order["attribution"]["memberId"] is None or not deltas:
        return order
    counts = order.get(FIELD) or {}
    return order | {FIELD: {"pending": [*counts.get("pending", []), {"change": change, "deltas": deltas}],
                            "counted": counts.get("counted", {})}}


def pending(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes not counted yet, oldest first: {"change", "deltas"}."""
    return list((order.get(FIELD) or {}).get("pending", []))


def count(*, store: BrandStore, order: dict[str, Any], entry: dict[str, Any], token: str) -> dict[str, str]:
    """Apply one pending change to each counter not yet marked with it; counter id -> token of the mark that counted."""
    return {key.id: counted_once.add_once(store=store, key=key, owner=_owner(order), change=entry["change"],
                                          token=token,
                                          deltas=entry["deltas"])
            for key in keys(order)}


def recorded(order: dict[str, Any], change: str, marks: dict[str, str]) -> dict[str, Any] | None:
    """The order with `change` moved from pending to counted; None when another call recorded it first."""
    counts = order.get(FIELD) or {}
    entry = next((item for item in counts.get("pending", []) if item["change"] == change), None)
    if entry is None:
        return None
    return order | {FIELD: {"pending": [item for item in counts["pending"] if item["change"] != change],
                            "counted": counts.get("counted", {}) | {change: {"deltas": entry["deltas"],
                                                                              "marks": marks}}}}


def sweep(*, store: BrandStore, order: dict[str, Any]) -> None:
    """Remove the marks of the order's counted changes from its counters (undoing any second count first)."""
    counted: dict[str, Any] = (order.get(FIELD) or {}).get("counted", {})
    if not counted:
        return
    for key in keys(order):
        per_change: dict[str, tuple[str, Deltas]] = {
            change: (record["marks"].get(key.id, ""), record["deltas"]) for change, record in counted.items()}
        counted_once.sweep(store=store, key=key, owner=_owner(order), counted=per_change)

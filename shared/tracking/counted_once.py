"""Counter increments applied exactly once per change, whatever the moment of a crash or a retry.

The tracking queue keeps `counters.apply` (blind patch increments, its own trade-off in
`aggregator`). A caller that must neither lose nor repeat a change (an order and its updates,
refunds and cancel) names it (`owner` "order:<id>", `change` "commission", "u1", "r:<refund>",
"x") and applies it to each counter document with `add_once`: one conditional write (under the
document's etag) adds the increments *and* leaves a mark `marks[owner][change] = token`, and only
when the document carries no mark of that change yet. So a retry, or a second caller, skips the
documents already counted and counts the others.

Marks are removed by `sweep` once the owner has recorded the change as counted, with the token of
the mark that counted on each document. A caller that read the change as pending long ago (a
retried call, a concurrent re-post) may still count a document whose mark was already swept: its
mark then carries another token than the recorded one, and `sweep` takes its increments back.
A mark left by a crash is harmless (it only stops a second count) and goes at the next sweep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from shared.errors import Conflict
from shared.ports.store import BrandStore, DocumentConflict, PatchOp
from shared.ports.store_retry import retrying
from shared.tracking import counters
from shared.tracking.counters import CONTAINER, CounterKey, Deltas

MARKS = "marks"
# Optimistic retries of one conditional write: the brand roll-ups also take the click queue's increments.
_RETRIES = 20


class CounterBusy(Conflict):
    code = "counter-busy"
    title = "The counters changed during the call too often; try again"


def _read(store: BrandStore, key: CounterKey) -> dict:
    pk = key.pk(store.brand_id)
    doc = store.find(CONTAINER, key.id, pk=pk)
    if doc is not None:
        return doc
    try:
        return store.create(CONTAINER, counters.new_document(store.brand_id, key))
    except DocumentConflict:
        return store.get(CONTAINER, key.id, pk=pk)  # created meanwhile by another writer


def _increments(deltas: Mapping[str, int]) -> list[PatchOp]:
    ops = [PatchOp("incr", path, value) for path, value in sorted(deltas.items()) if value]
    for op in ops:
        counters.check_path(op.path)
    return ops


def add_once(*, store: BrandStore, key: CounterKey, owner: str, change: str, token: str, deltas: Deltas) -> str:
    """Add `deltas` unless the counter carries the mark of (owner, change); the token of the mark that counted."""
    ops = _increments(deltas)

    def attempt() -> str:
        doc = _read(store, key)
        marks = doc.get(MARKS) or {}
        held = (marks.get(owner) or {}).get(change)
        if held is not None:
            return held
        marked = marks | {owner: (marks.get(owner) or {}) | {change: token}}
        store.patch(CONTAINER, key.id, [*ops, PatchOp("set", MARKS, marked)], pk=key.pk(store.brand_id),
                    etag=doc["_etag"])
        return token

    return retrying(attempt, attempts=_RETRIES, exhausted=CounterBusy(f"counter {key.id} kept changing"))


def sweep(*, store: BrandStore, key: CounterKey, owner: str, counted: Mapping[str, tuple[str, Deltas]]) -> None:
    """Remove the owner's marks of counted changes; a mark of another token than the recorded one is undone first.

    `counted` maps each change the owner recorded as counted to (the token that counted on this
    document, the change's deltas). Marks of changes not in it (still pending) are left alone.
    """

    def attempt() -> None:
        doc = store.find(CONTAINER, key.id, pk=key.pk(store.brand_id))
        marks = (doc or {}).get(MARKS) or {}
        mine = marks.get(owner) or {}
        done = {change: token for change, token in mine.items() if change in counted}
        if doc is None or not done:
            return
        undo: dict[str, int] = defaultdict(int)
        for change, token in done.items():
            recorded, deltas = counted[change]
            if token != recorded:  # counted twice by a caller that read the change as pending too late
                for path, value in deltas.items():
                    undo[path] -= value
        left = {change: token for change, token in mine.items() if change not in done}
        kept = {name: value for name, value in marks.items() if name != owner} | ({owner: left} if left else {})
        store.patch(CONTAINER, key.id, [*_increments(undo), PatchOp("set", MARKS, kept)],
                    pk=key.pk(store.brand_id), etag=doc["_etag"])

    retrying(attempt, attempts=_RETRIES, exhausted=CounterBusy(f"counter {key.id} kept changing"))

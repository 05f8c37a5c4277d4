"""Pre-aggregated tracking counters: the only thing dashboards read.

One document per (member, day, source, target kind) and a brand roll-up per (day, source,
target kind) with `memberId` "*", in container `tracking_counters`, partition
"<brand>|<yyyy-mm>": a month of a brand is one partition (a member's day range reads a few
partitions, never the events). Each event also counts in the day's totals of its member and of
the brand (source and target kind ALL), kept apart in partition "<brand>|<yyyy-mm>|totals": the
by-day charts and the ranking of members read one document per member and day there, however
many sources and targets the day had. Counts change only by patch increments, so two writers never
race on a read-modify-write; a missing document is created with zeroes first (a concurrent
create loses harmlessly and increments the winner). `apply` is the queue's blind increment; a
change that must count exactly once whatever the moment of a crash (orders) goes through
`shared.tracking.counted_once`, which marks the documents it counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, PatchOp
from shared.tracking.models import month_of

CONTAINER = "tracking_counters"
BRAND_ROLLUP = "*"
ALL = "*"  # source and target kind of a day's totals

# Plain counts. Money is kept per currency in minor units under these maps ("salesMinor.EUR").
COUNT_FIELDS = (
    "clicks",            # clicks counted (external + internal)
    "externalVisits",    # clicks from outside Popsell: new traffic
    "internalVisits",    # clicks from inside the App or a widget: an enabler of conversion
    "rejectedClicks",    # self-clicks and click floods, kept apart (never counted as clicks)
    "pageViews",         # brand-site pages seen by referred visitors
    "productPicks",
    "orders",            # attributed orders (net of cancellations)
    "refunds",
)
MONEY_FIELDS = ("salesMinor", "commissionMinor")
_MAX_OPS = 10  # Cosmos DB's limit of operations per patch

Deltas = dict[str, int]  # field path ("clicks", "salesMinor.EUR") -> increment


@dataclass(frozen=True)
class CounterKey:
    """One counter document: a member (or the brand roll-up "*"), a UTC day, a source, a target kind."""

    member_id: str
    day: str
    source: str
    target_kind: str

    @property
    def id(self) -> str:
        if self.member_id == BRAND_ROLLUP:
            return f"b|{self.day}|{self.source}|{self.target_kind}"
        return f"m|{self.member_id}|{self.day}|{self.source}|{self.target_kind}"

    @property
    def is_total(self) -> bool:
        return self.source == ALL and self.target_kind == ALL

    def pk(self, brand_id: str) -> str:
        return (totals_partition if self.is_total else partition)(brand_id, self.day)


def partition(brand_id: str, day: str) -> str:
    """The partition of a brand's counters by source and target for the month of `day`."""
    return f"{brand_id}|{month_of(day)}"


def totals_partition(brand_id: str, day: str) -> str:
    """The partition of a brand's day totals (per member, and the brand's) for the month of `day`."""
    return f"{brand_id}|{month_of(day)}|totals"


def for_member(member_id: str, day: str, source: str, target_kind: str, deltas: Deltas) -> dict[CounterKey, Deltas]:
    """The increments of one event: the member's counter, the brand roll-up and both day totals, same deltas."""
    return {
        CounterKey(member_id, day, source, target_kind): dict(deltas),
        CounterKey(BRAND_ROLLUP, day, source, target_kind): dict(deltas),
        CounterKey(member_id, day, ALL, ALL): dict(deltas),
        CounterKey(BRAND_ROLLUP, day, ALL, ALL): dict(deltas),
    }


def merge(into: dict[CounterKey, Deltas], more: Mapping[CounterKey, Deltas]) -> dict[CounterKey, Deltas]:
    """Add `more` into `into` (a batch of events becomes one increment per counter touched)."""
    for key, deltas in more.items():
        target = into.setdefault(key, defaultdict(int))
        for path, value in deltas.items():
            target[path] = target.get(path, 0) + value
    return into


def check_path(path: str) -> None:
    """Refuse a field path that is not a counter (a count, or money "salesMinor.EUR")."""
    head, _, currency = path.partition(".")
    if head in COUNT_FIELDS and not currency:
        return
    if head in MONEY_FIELDS and len(currency) == 3 and currency.isalpha() and currency.isupper():
        return
    raise ValueError(f"unknown counter field {path!r}")


def new_document(brand_id: str, key: CounterKey) -> dict:
    """A counter document of zeroes, created before its first increment."""
    return {
        "id": key.id, "pk": key.pk(brand_id), "memberId": key.member_id, "day": key.day,
        "source": key.source, "targetKind": key.target_kind,
        **{name: 0 for name in COUNT_FIELDS}, **{name: {} for name in MONEY_FIELDS},
    }


def _patch(store: BrandStore, key: CounterKey, ops: list[PatchOp]) -> None:
    pk = key.pk(store.brand_id)
    try:
        store.patch(CONTAINER, key.id, ops, pk=pk)
    except DocumentNotFound:
        try:
            store.create(CONTAINER, new_document(store.brand_id, key))
        except DocumentConflict:
            pass  # created meanwhile by another writer: increment theirs
        store.patch(CONTAINER, key.id, ops, pk=pk)


def apply(*, store: BrandStore, increments: Mapping[CounterKey, Deltas]) -> int:
    """Apply increments by patch; returns the number of patch calls made (one per counter, per 10 fields)."""
    writes = 0
    for key, deltas in increments.items():
        ops = [PatchOp("incr", path, value) for path, value in sorted(deltas.items()) if value]
        for op in ops:
            check_path(op.path)
        for start in range(0, len(ops), _MAX_OPS):
            _patch(store, key, ops[start:start + _MAX_OPS])
            writes += 1
    return writes


def blank() -> dict:
    """A record of zero counts and no money, the shape `add` sums into."""
    return {name: 0 for name in COUNT_FIELDS} | {name: {} for name in MONEY_FIELDS}


def add(sums: dict, doc: dict) -> None:
    """Add one counter document (or record) into `sums`; money stays per currency."""
    for name in COUNT_FIELDS:
        sums[name] += int(doc.get(name) or 0)
    for name in MONEY_FIELDS:
        money = sums[name]
        for currency, amount in (doc.get(name) or {}).items():
            money[currency] = money.get(currency, 0) + int(amount)


def totals(documents: Iterable[dict]) -> dict:
    """Sum counter documents into one record of counts and per-currency money."""
    result = blank()
    for doc in documents:
        add(result, doc)
    return result

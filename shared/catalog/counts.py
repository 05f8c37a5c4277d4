"""How many active products each category holds (with its subcategories'): the browse tree's counts.

Counting at read time would read the whole catalog (100,000 products) per tree shown, so the counts
are kept in one document (`catalog_trees`, id "counts") that every catalog write moves by the
difference it made: a batch adds up its lines' differences and writes once. A write that crashed
between its products and its counts leaves them off until the next recount, which every full sync
run's finish and every move of a category does (`recount` reads the products' categories only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.clock import isoformat
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import update_document

TREES = "catalog_trees"
COUNTS_ID = "counts"
TOTAL = ""  # the key of every active product, whatever its categories
_ATTEMPTS = 8
_SCAN_PAGE = 1000


def _shown(doc: Mapping[str, Any] | None) -> list[str] | None:
    """The categories a stored product counts in (None: it counts nowhere, being retired or absent)."""
    search = (doc or {}).get("search")
    return None if search is None else [TOTAL, *search.get("categories", [])]


def difference(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Counter[str]:
    """What replacing `before` by `after` (None: no document) changes in the counts."""
    change: Counter[str] = Counter()
    for category in _shown(after) or []:
        change[category] += 1
    for category in _shown(before) or []:
        change[category] -= 1
    return Counter({category: n for category, n in change.items() if n})


def _body(counts: Mapping[str, int], now: datetime) -> dict[str, Any]:
    return {"id": COUNTS_ID, "counts": {key: n for key, n in counts.items() if n > 0}, "updatedAt": isoformat(now)}


def apply(*, store: BrandStore, change: Counter[str], now: datetime) -> None:
    """Move the counts by a write's difference (one etag-guarded write; nothing when nothing changed)."""
    if change:
        update_document(store, TREES, COUNTS_ID, lambda doc: _body(_moved(doc, change), now), attempts=_ATTEMPTS)


def _moved(doc: Mapping[str, Any] | None, change: Counter[str]) -> Counter[str]:
    counts = Counter((doc or {}).get("counts", {}))
    counts.update(change)  # update, not +: a count may go down
    return counts


def recount(*, store: BrandStore, now: datetime) -> dict[str, int]:
    """Count every active product again (a run's finish, a category move); the new counts."""
    counts: Counter[str] = Counter()
    continuation = None
    while True:
        page = store.query("products", filters=[Filter("status", "=", "active")], fields=("search.categories",),
                           page_size=_SCAN_PAGE, continuation=continuation)
        for item in page.items:
            counts.update([TOTAL, *(item.get("search") or {}).get("categories", [])])
        continuation = page.continuation
        if continuation is None:
            break
    update_document(store, TREES, COUNTS_ID, lambda _: _body(counts, now), attempts=_ATTEMPTS)
    return dict(counts)


def read(*, store: BrandStore) -> dict[str, int]:
    """The counts by category id; TOTAL holds the whole catalog's."""
    return dict((store.find(TREES, COUNTS_ID) or {}).get("counts", {}))

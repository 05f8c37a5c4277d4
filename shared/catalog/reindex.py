"""Products under a category that moved: their search part's categories follow the tree again.

A product's `search.categories` holds its categories' ancestors (shared/catalog/search_fields.py),
so moving "Totes" from "Women > Bags" to "Bags" changes what every tote shows under. The
`CategoriesMoved` handler rewrites them (only that field changes), a transaction per chunk, then
counts every category again. Rewriting is idempotent: a redelivered event finds them right already.
"""

from __future__ import annotations

from datetime import datetime

from shared.catalog import categories, counts, search_fields
from shared.ports.store import BrandStore, Filter, Write
from shared.ports.store_retry import retrying

PRODUCTS = "products"
_PAGE = 100
_ATTEMPTS = 5


def _rewrite(store: BrandStore, category_id: str, trail_of: dict[str, list[str]]) -> int:
    """One pass over the products under a category; how many it rewrote."""
    rewritten, continuation = 0, None
    while True:
        page = store.query(PRODUCTS, filters=[Filter("search.categories", "has", category_id)],
                           page_size=_PAGE, continuation=continuation)
        writes = []
        for doc in page.items:
            shown = search_fields.categories_of(doc.get("categoryIds") or [], trail_of)
            if shown != doc["search"].get("categories"):
                writes.append(Write("replace", {**doc, "search": {**doc["search"], "categories": shown}},
                                    etag=doc["_etag"]))
        if writes:
            store.write_batch(PRODUCTS, writes)  # a sync changed one meanwhile: EtagMismatch, read again
            rewritten += len(writes)
        continuation = page.continuation
        if continuation is None:
            return rewritten


def under_moved(*, store: BrandStore, category_ids: list[str], now: datetime) -> int:
    """Re-derive the categories of every product under the moved ones; how many products changed."""
    trail_of = search_fields.trails(categories.nodes(store=store))
    total = 0
    for category_id in category_ids:
        total += retrying(lambda category_id=category_id: _rewrite(store, category_id, trail_of),
                          attempts=_ATTEMPTS)
    counts.recount(store=store, now=now)
    return total


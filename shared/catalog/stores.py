"""The brand's physical stores: a member's home shop, the directory's search by store (docs/catalog.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.catalog.models import StoreIn
from shared.catalog.results import LineResult, Outcome, check_size, checked
from shared.clock import isoformat
from shared.errors import NotFound
from shared.ports.store import BrandStore

STORES = "stores"
MAX_BATCH = 500


def _document(store_in: StoreIn, current: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    return {**store_in.model_dump(mode="json", by_alias=True),
            "createdAt": current["createdAt"] if current else isoformat(now), "updatedAt": isoformat(now)}


def _same(store_in: StoreIn, current: dict[str, Any]) -> bool:
    sent = store_in.model_dump(mode="json", by_alias=True)
    return all(current.get(key) == value for key, value in sent.items())


def upsert_one(*, store: BrandStore, data: StoreIn, now: datetime) -> tuple[dict[str, Any], Outcome]:
    """Create or update one store; the stored store and "created" | "updated" | "unchanged"."""
    current = store.find(STORES, data.id)
    if current is not None and _same(data, current):
        return current, "unchanged"
    # Last writer wins: a store's fields are the platform's, set whole by each call.
    return store.upsert(STORES, _document(data, current, now)), "created" if current is None else "updated"


def upsert_batch(*, store: BrandStore, lines: list[Any], now: datetime) -> list[LineResult]:
    """Apply a batch of store lines, each on its own; one result per line."""
    check_size(lines, limit=MAX_BATCH, field="stores", what="stores")
    results: list[LineResult] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        data = checked(index, line, StoreIn, seen)
        if isinstance(data, LineResult):
            results.append(data)
            continue
        results.append(LineResult(index, data.id, upsert_one(store=store, data=data, now=now)[1]))
    return results


def get(*, store: BrandStore, store_id: str) -> dict[str, Any]:
    doc = store.find(STORES, store_id)
    if doc is None:
        raise NotFound("Store not found")
    return doc


def delete(*, store: BrandStore, store_id: str) -> None:
    """Remove a store; members naming it as their home shop keep the id (the directory shows no store)."""
    get(store=store, store_id=store_id)
    store.delete(STORES, store_id)


def list_page(*, store: BrandStore, page_size: int,
              continuation: str | None) -> tuple[list[dict[str, Any]], str | None]:
    page = store.query(STORES, page_size=page_size, continuation=continuation)
    return page.items, page.continuation

"""The brand's physical stores: a member's home shop, the directory's search by store (docs/catalog.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.catalog.models import StoreIn
from shared.catalog.results import LineResult, Outcome, line_id, validation_errors
from shared.clock import isoformat
from shared.errors import InvalidInput, NotFound
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
    if len(lines) > MAX_BATCH:
        raise InvalidInput(f"At most {MAX_BATCH} stores per request",
                           errors=[{"field": "stores", "message": f"at most {MAX_BATCH} lines"}])
    results, seen = [], set()
    for index, line in enumerate(lines):
        try:
            data = StoreIn.model_validate(line)
        except ValidationError as exc:
            results.append(LineResult(index, line_id(line), "rejected", validation_errors(exc)))
            continue
        if data.id in seen:
            results.append(LineResult(index, data.id, "rejected",
                                      [{"field": "id", "message": "the same id came earlier in this batch"}]))
            continue
        seen.add(data.id)
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

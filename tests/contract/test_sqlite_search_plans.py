"""The embedded store answers a substring search by one of two plans, depending on how many documents
hold the substring: reading its matches then sorting them (few), or walking the sort index checking
each row (many). Both plans must give the same pages."""

from __future__ import annotations

import pytest

from shared.adapters import sqlite_store
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.ports.store import Filter, Write


@pytest.fixture
def products(tmp_path):
    store = SqliteDocumentStore(tmp_path / "store.sqlite3")
    store.ensure_schema()
    brand = store.for_brand("acme")
    words = ["sac cuir", "cabas toile", "ceinture cuir", "pochette"]
    for start in range(0, 300, 100):
        brand.write_batch("products", [Write("create", {"id": f"p{n:03d}", "search": {
            "text": f"{words[n % 4]} {n}", "title": f"{words[(n * 7) % 4]} {n:03d}", "price": (n * 37) % 101,
            "categories": ["bags"] if n % 3 else ["men"]}}) for n in range(start, start + 100)])
    store.for_brand("other").create("products", {"id": "x", "search": {"text": "sac cuir", "title": "a"}})
    yield brand
    store.close()


def pages(brand, **query):
    seen, continuation = [], None
    while True:
        page = brand.query("products", page_size=7, continuation=continuation, **query)
        seen += [doc["id"] for doc in page.items]
        continuation = page.continuation
        if continuation is None:
            return seen


QUERIES = [
    {"filters": [Filter("search.text", "contains", "cuir")], "order_by": "search.title"},
    {"filters": [Filter("search.text", "contains", "cuir"), Filter("search.categories", "has", "men")],
     "order_by": "search.price", "descending": True},
    {"filters": [Filter("search.text", "contains", "toile"), Filter("search.price", ">=", 50)]},
    {"filters": [Filter("search.text", "contains", "cuir 1")], "order_by": "search.title"},
]


@pytest.mark.parametrize("query", QUERIES)
def test_both_plans_give_the_same_pages(products, monkeypatch, query):
    monkeypatch.setattr(sqlite_store, "SPARSE_MATCHES", 10**6)  # every substring drives its query
    driven = pages(products, **query)
    monkeypatch.setattr(sqlite_store, "SPARSE_MATCHES", 0)  # every substring filters the sort index
    filtered = pages(products, **query)

    assert driven == filtered
    assert driven  # the queries match something
    assert "x" not in driven

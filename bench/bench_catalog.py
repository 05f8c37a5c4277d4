"""The catalog on the embedded SQLite store: a 20,000-product sync, its repeat, and a public profile.

- Sync: 20,000 products in batches of 500 through `products.upsert_batch` (what the batch route
  calls), against raw sqlite3 upserting the same JSON documents one by one into a table with the
  indexes any store of them needs to answer the catalog's queries (status, item group, updated),
  in WAL mode with `synchronous = NORMAL` like the store (target: at least 0.5 of the raw
  throughput).
- Repeat: the same catalog sent again (every line unchanged: one read each, no write), against the
  first sync (target: at least 5 times faster).
- Profile: a member's public profile with 50 products (25 owned, 25 recommended) through the same
  service the routes call (target p95 ≤ 20 ms).

Run: .venv/bin/python -m bench.bench_catalog
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from shared.adapters.folder_blobs import FolderBlobStore
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.brands.models import Brand
from shared.catalog import member_products, products
from shared.catalog.member_products import MemberProductLists
from shared.catalog.models import ProductIn
from shared.clock import SettableClock
from shared.directory import profile
from shared.identity import repository
from shared.identity.models import Member, Role
from shared.store_schema import CONTAINERS

PRODUCTS = 20_000
BATCH = products.MAX_BATCH
BRAND = "bench-brand"
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
PROFILE_RUNS = 300


def _line(index: int) -> dict:
    return {"id": f"sku-{index:06d}", "title": f"Leather tote {index}", "description": "Full-grain leather. " * 10,
            "link": f"https://shop.example/p/{index}", "imageLink": f"https://cdn.example/{index}.jpg",
            "additionalImageLinks": [f"https://cdn.example/{index}-{n}.jpg" for n in range(3)],
            "availability": "in_stock" if index % 7 else "out_of_stock",
            "price": {"amountMinor": 1000 + index % 9000, "currency": "EUR"}, "brand": "Acme",
            "itemGroupId": f"group-{index // 4}", "color": ["black", "tan", "red", "navy"][index % 4]}


def _raw_sqlite(folder: Path, lines: list[dict], per_commit: int = 1) -> float:
    """Seconds raw sqlite3 takes to write the same documents, one statement and commit each, with the same
    expression indexes and search indexes (an FTS5 trigram table, a table of array elements)."""
    conn = sqlite3.connect(folder / f"raw-{per_commit}.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE products (brand TEXT, id TEXT, doc TEXT, PRIMARY KEY (brand, id))")
    for path in CONTAINERS["products"].indexed_paths:
        conn.execute(f"CREATE INDEX \"ix_{path}\" ON products (brand, json_extract(doc, '$.{path}'), id)")
    # The search indexes the catalog's views need, written in the same statement's transaction.
    conn.execute("CREATE VIRTUAL TABLE products_text USING fts5(text, tokenize = 'trigram case_sensitive 1')")
    conn.execute("CREATE TABLE products_items (doc INTEGER, value TEXT)")
    conn.execute("CREATE INDEX ix_items ON products_items (value, doc)")
    conn.execute("CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN "
                 "INSERT INTO products_text (rowid, text) VALUES (new.rowid, json_extract(new.doc, '$.search.text')); "
                 "INSERT INTO products_items SELECT new.rowid, value FROM json_each(new.doc, '$.search.codes'); END")
    docs = [products.to_document(products.fields_of(ProductIn.model_validate(line)), digest="0" * 64,
                                 created_at="2030-01-01T09:00:00Z", now=NOW, trail_of={}) for line in lines]
    started = time.perf_counter()
    for start in range(0, len(docs), per_commit):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO products VALUES (?, ?, ?)",
                         [(BRAND, doc["id"], json.dumps(doc)) for doc in docs[start:start + per_commit]])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def _sync(store, lines: list[dict]) -> float:
    started = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        products.upsert_batch(store=store, lines=lines[start:start + BATCH], now=NOW)
    return time.perf_counter() - started


def run() -> list[str]:
    lines = [_line(index) for index in range(PRODUCTS)]
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as name:
        folder = Path(name)
        raw_seconds = _raw_sqlite(folder, lines)
        raw_batched = _raw_sqlite(folder, lines, per_commit=products.WRITE_CHUNK)
        database = SqliteDocumentStore(folder / "store.sqlite3")
        database.ensure_schema()
        store = database.for_brand(BRAND)
        first = _sync(store, lines)
        repeat = _sync(store, lines)
        repository.save(store=store, container=repository.MEMBERS, etag=None, model=Member(
            id="m1", role=Role.VENDOR, status="active", created_at=NOW, first_name="Ana", last_name="Lopes",
            address={"city": "Lyon"}))
        member_products.put(store=store, member_id="m1", now=NOW, data=MemberProductLists.model_validate({
            "owned": [{"productId": f"sku-{n:06d}"} for n in range(25)],
            "recommended": [{"productId": f"sku-{n:06d}", "note": "A favourite"} for n in range(100, 125)]}))
        brand = Brand(id=BRAND, name="Bench", createdAt=NOW, updatedAt=NOW)
        blobs = FolderBlobStore(folder / "blobs", base_url="http://localhost", signing_key="bench",
                                clock=SettableClock(NOW))
        samples = []
        for index in range(PROFILE_RUNS + 20):
            started = time.perf_counter()
            seen = profile.public_profile(store=store, brand=brand, member_id="m1", view="visitor", now=NOW,
                                          app_base_url="https://app.popsell.example",
                                          blobs=blobs)
            if index >= 20:  # the first calls warm the statement caches
                samples.append((time.perf_counter() - started) * 1000)
        assert len(seen.owned_products) + len(seen.recommended_products) == 50
        database.close()
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    ratio, speedup = raw_seconds / first, first / repeat
    return [
        f"Catalog sync on SQLite ({PRODUCTS:,} products in batches of {BATCH})",
        f"first sync       {PRODUCTS / first:8.0f} products/s   raw sqlite3 {PRODUCTS / raw_seconds:8.0f}/s   "
        f"ratio {ratio:.2f} (target ≥ 0.5)   {'ok' if ratio >= 0.5 else 'under target'}",
        f"                 raw sqlite3 committing {products.WRITE_CHUNK} at a time {PRODUCTS / raw_batched:8.0f}/s   "
        f"ratio {raw_batched / first:.2f} (for information)",
        f"repeated sync    {PRODUCTS / repeat:8.0f} products/s   {speedup:.1f}× the first (target ≥ 5×)   "
        f"{'ok' if speedup >= 5 else 'under target'}",
        f"public profile, 50 products   median {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms   "
        f"(target ≤ 20 ms)   {'ok' if p95 <= 20 else 'over 20 ms'}",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)

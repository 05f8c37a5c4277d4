"""The SQLite document store against raw sqlite3 doing the same work (target: at most 2x slower).

Both sides use the same table layout, pragmas, expression index and data (20k member documents),
and both return Python dicts: the raw side also parses JSON and makes a new etag per write, so the
ratio measures only what the adapter adds (validation, brand scoping, statement building).

Run: .venv/bin/python -m bench.bench_store
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.ports.store import BrandStore, Filter
from shared.store_schema import CONTAINERS

DOCS = 20_000
BRAND = "bench-brand"
POINT_READS = 20_000
UPSERTS = 5_000
RANGE_QUERIES = 2_000
PAGE = 50
START = datetime(2030, 1, 1, tzinfo=UTC)

# The same layout as the adapter: the table, and one expression index per declared path.
RAW_DDL = (
    'CREATE TABLE "members" (part TEXT NOT NULL, id TEXT NOT NULL, brand TEXT NOT NULL, '
    "etag TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (part, id))",
    *(
        f'CREATE INDEX "ix_{number}" ON "members" (part, json_extract(doc, \'$.{path}\'), id)'
        for number, path in enumerate(CONTAINERS["members"].indexed_paths)
    ),
)
RAW_GET = 'SELECT etag, doc FROM "members" WHERE part = ? AND id = ?'
RAW_UPSERT = (
    'INSERT INTO "members" (part, id, brand, etag, doc) VALUES (?, ?, ?, ?, ?) '
    "ON CONFLICT (part, id) DO UPDATE SET etag = excluded.etag, doc = excluded.doc"
)
RAW_RANGE = (
    "SELECT etag, doc FROM \"members\" WHERE part = ? AND json_extract(doc, '$.retention.dueAt') >= ? "
    "AND json_extract(doc, '$.retention.dueAt') < ? "
    "ORDER BY json_extract(doc, '$.retention.dueAt'), id LIMIT ?"
)


def _due(index: int) -> str:
    return (START + timedelta(minutes=7 * index)).isoformat().replace("+00:00", "Z")


def _member(index: int) -> dict:
    return {
        "id": f"m{index:06d}",
        "brandId": BRAND,
        "role": index % 7,
        "status": "active",
        "emailHash": uuid.UUID(int=index).hex,
        "profile": {"firstName": "Member", "city": "Lyon", "postalCode": "69001"},
        "retention": {"dueAt": _due(index)},
    }


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=512)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _raw_get(conn: sqlite3.Connection, doc_id: str) -> dict:
    etag, text = conn.execute(RAW_GET, (BRAND, doc_id)).fetchone()
    doc = json.loads(text)
    doc["_etag"] = etag
    return doc


def _raw_upsert(conn: sqlite3.Connection, doc: dict) -> None:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    conn.execute(RAW_UPSERT, (BRAND, doc["id"], BRAND, str(uuid.uuid4()), text))


def _raw_range(conn: sqlite3.Connection, low: str, high: str) -> list[dict]:
    docs = []
    for etag, text in conn.execute(RAW_RANGE, (BRAND, low, high, PAGE + 1)).fetchall()[:PAGE]:
        doc = json.loads(text)
        doc["_etag"] = etag
        docs.append(doc)
    return docs


def _adapter_range(brand: BrandStore, low: str, high: str) -> list[dict]:
    filters = [Filter("retention.dueAt", ">=", low), Filter("retention.dueAt", "<", high)]
    return brand.query("members", filters=filters, order_by="retention.dueAt", page_size=PAGE).items


def _check_same_answers(brand: BrandStore, conn: sqlite3.Connection, window: tuple[str, str]) -> None:
    """Both sides must have done the same work, or the ratio means nothing."""
    adapter = [doc["id"] for doc in _adapter_range(brand, *window)]
    raw = [doc["id"] for doc in _raw_range(conn, *window)]
    if adapter != raw or len(adapter) != PAGE:
        raise RuntimeError(f"adapter and raw answers differ: {adapter[:3]}... vs {raw[:3]}...")


def _rate(operation: Callable[[int], object], count: int) -> float:
    for index in range(min(200, count)):  # warm the statement caches
        operation(index)
    started = time.perf_counter()
    for index in range(count):
        operation(index)
    return count / (time.perf_counter() - started)


def _line(name: str, adapter: float, raw: float) -> str:
    return f"{name:<22} adapter {adapter:>10,.0f} ops/s   raw {raw:>10,.0f} ops/s   overhead {raw / adapter:4.2f}x"


def run() -> list[str]:
    """Load the same documents both ways, time each operation, return one line per figure."""
    rng = random.Random(20300101)
    read_ids = [f"m{rng.randrange(DOCS):06d}" for _ in range(POINT_READS)]
    windows = [rng.randrange(DOCS - PAGE) for _ in range(RANGE_QUERIES)]
    ranges = [(_due(start), _due(start + PAGE)) for start in windows]
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        store = SqliteDocumentStore(Path(folder) / "adapter.sqlite3")
        store.ensure_schema()
        brand = store.for_brand(BRAND)
        conn = _connect(Path(folder) / "raw.sqlite3")
        for statement in RAW_DDL:
            conn.execute(statement)

        load = [
            _line(
                "load (upsert, 20k)",
                _rate(lambda i: brand.upsert("members", _member(i)), DOCS),
                _rate(lambda i: _raw_upsert(conn, _member(i)), DOCS),
            )
        ]
        figures = [
            _line(
                "point read",
                _rate(lambda i: brand.get("members", read_ids[i]), POINT_READS),
                _rate(lambda i: _raw_get(conn, read_ids[i]), POINT_READS),
            ),
            _line(
                "upsert (existing doc)",
                _rate(lambda i: brand.upsert("members", _member(i)), UPSERTS),
                _rate(lambda i: _raw_upsert(conn, _member(i)), UPSERTS),
            ),
            _line(
                f"range query ({PAGE} docs)",
                _rate(lambda i: _adapter_range(brand, *ranges[i]), RANGE_QUERIES),
                _rate(lambda i: _raw_range(conn, *ranges[i]), RANGE_QUERIES),
            ),
        ]
        _check_same_answers(brand, conn, ranges[0])
        conn.close()
        store.close()
    return [f"SQLite document store vs raw sqlite3 ({DOCS:,} docs, SQLite {sqlite3.sqlite_version})", *load, *figures]


if __name__ == "__main__":
    for line in run():
        print(line)

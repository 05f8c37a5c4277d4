"""What only the SQLite adapter promises: a file that persists, safe threads, real indexes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.errors import InvalidInput
from shared.ports.store import EtagMismatch, Filter, PatchOp
from shared.store_schema import CONTAINERS


@pytest.fixture
def store(tmp_path: Path):
    store = SqliteDocumentStore(tmp_path / "store.sqlite3")
    store.ensure_schema()
    yield store
    store.close()


def test_documents_survive_closing_and_reopening_the_file(tmp_path: Path) -> None:
    first = SqliteDocumentStore(tmp_path / "store.sqlite3")
    first.ensure_schema()
    first.for_brand("b1").create("members", {"id": "m1", "role": 2})
    first.close()

    reopened = SqliteDocumentStore(tmp_path / "store.sqlite3")
    reopened.ensure_schema()

    assert reopened.for_brand("b1").get("members", "m1")["role"] == 2
    reopened.close()


def test_concurrent_increments_from_many_threads_lose_nothing(store: SqliteDocumentStore) -> None:
    brand = store.for_brand("b1")
    brand.create("members", {"id": "m1", "points": 0})
    threads, per_thread = 8, 40
    errors: list[BaseException] = []

    def add_points() -> None:
        try:
            for _ in range(per_thread):
                brand.patch("members", "m1", [PatchOp("incr", "points", 1)])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=add_points) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert brand.get("members", "m1")["points"] == threads * per_thread


def test_of_two_writers_holding_the_same_etag_exactly_one_wins(store: SqliteDocumentStore) -> None:
    brand = store.for_brand("b1")
    doc = brand.create("members", {"id": "m1", "status": "waiting"})
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def pick_up(worker: int) -> None:
        start.wait()
        try:
            brand.patch("members", "m1", [PatchOp("set", "status", f"picked-{worker}")], etag=doc["_etag"])
            outcomes.append("won")
        except EtagMismatch:
            outcomes.append("lost")

    workers = [threading.Thread(target=pick_up, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]


def test_every_declared_indexed_path_has_an_expression_index(store: SqliteDocumentStore) -> None:
    index_sql = "\n".join(
        row[0]
        for row in store.connection().execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    )

    for spec in CONTAINERS.values():
        for path in spec.indexed_paths:
            assert f"ON \"{spec.name}\" (part, json_extract(doc, '$.{path}'), id)" in index_sql


@pytest.mark.parametrize(
    ("container", "query", "index"),
    [
        ("members", {"filters": [Filter("retention.dueAt", "<=", "2030-01-01T00:00:00Z")]}, "retention_dueAt"),
        ("members", {"filters": [Filter("role", "=", 3)]}, "role"),
        ("members", {"order_by": "retention.dueAt", "descending": True}, "retention_dueAt"),
        ("tracking_events", {"filters": [Filter("visitorKey", "=", "v1")]}, "brand_visitorKey"),
        ("members", {"filters": [Filter("directory.availability", "=", "online")], "fields": ("directory",)},
         "directory_availability"),
    ],
    ids=["range", "equality", "sorted", "across-partitions", "projected"],
)
def test_queries_on_declared_paths_search_an_index(
    store: SqliteDocumentStore, container: str, query: dict, index: str
) -> None:
    executed: list[str] = []
    connection = store.connection()
    connection.set_trace_callback(executed.append)
    store.for_brand("b1").query(container, **query)
    connection.set_trace_callback(None)

    plan = " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {executed[-1]}"))

    assert f"SEARCH {container} USING INDEX ix_{container}_" in plan
    assert index in plan


def test_set_on_a_nested_path_needs_the_parent_object(store: SqliteDocumentStore) -> None:
    # Cosmos DB refuses it too; the local Cosmos server creates the field at the root instead,
    # so this rule is checked here rather than in the contract suite.
    brand = store.for_brand("b1")
    brand.create("members", {"id": "m1"})

    with pytest.raises(InvalidInput):
        brand.patch("members", "m1", [PatchOp("set", "profile.city", "Lyon")])
    assert "city" not in brand.get("members", "m1")


def test_an_in_memory_database_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="file path"):
        SqliteDocumentStore(":memory:")


# --- per-document ttl, as Cosmos DB counts it: from the last write --------------------------------


@pytest.fixture
def timed(tmp_path: Path):
    from datetime import UTC, datetime

    from shared.clock import SettableClock

    clock = SettableClock(datetime(2030, 1, 1, tzinfo=UTC))
    store = SqliteDocumentStore(tmp_path / "store.sqlite3", clock=clock)
    store.ensure_schema()
    yield store, clock
    store.close()


def test_documents_whose_ttl_ran_out_are_purged_and_the_others_kept(timed) -> None:
    from datetime import timedelta

    store, clock = timed
    brand = store.for_brand("b1")
    brand.create("throttles", {"id": "short", "ttl": 60})
    brand.create("throttles", {"id": "long", "ttl": 3600})
    brand.create("throttles", {"id": "forever"})
    brand.create("members", {"id": "m1", "ttl": 60})  # ttl is off on this container: a plain field

    clock.advance(timedelta(seconds=59))
    assert store.purge_expired() == 0
    clock.advance(timedelta(seconds=1))
    assert store.purge_expired() == 1

    assert brand.find("throttles", "short") is None
    assert {doc["id"] for doc in brand.query_all("throttles")} == {"long", "forever"}
    assert brand.get("members", "m1")["ttl"] == 60


@pytest.mark.parametrize("write", ["upsert", "replace", "patch"])
def test_a_write_restarts_the_ttl(timed, write) -> None:
    from datetime import timedelta

    store, clock = timed
    brand = store.for_brand("b1")
    brand.create("throttles", {"id": "t", "ttl": 60, "count": 1})
    clock.advance(timedelta(seconds=50))
    if write == "patch":
        brand.patch("throttles", "t", [PatchOp("incr", "count", 1)])
    else:
        getattr(brand, write)("throttles", {"id": "t", "ttl": 60, "count": 2})

    clock.advance(timedelta(seconds=50))  # 100 s after creation, 50 s after the write
    assert store.purge_expired() == 0
    clock.advance(timedelta(seconds=10))
    assert store.purge_expired() == 1


def test_a_data_folder_from_before_expiry_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as conn:  # the table as earlier versions created it
        conn.execute('CREATE TABLE "throttles" (part TEXT NOT NULL, id TEXT NOT NULL, brand TEXT NOT NULL, '
                     "etag TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (part, id))")
        conn.execute("""INSERT INTO "throttles" VALUES ('b1', 'old', 'b1', 'e1', '{"id": "old", "brandId": "b1"}')""")
    store = SqliteDocumentStore(path)
    store.ensure_schema()

    brand = store.for_brand("b1")
    assert brand.get("throttles", "old")["id"] == "old"
    brand.create("throttles", {"id": "new", "ttl": 1})
    assert store.purge_expired() == 0  # "new" expires one second from now
    store.close()

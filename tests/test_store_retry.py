"""The one optimistic-concurrency helper, on the real SQLite store: lost races are read again, never lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.errors import Conflict
from shared.ports.store import BrandStore, EtagMismatch
from shared.ports.store_retry import Retry, retrying, update_document
from tests.races import in_parallel

CONTAINER = "throttles"


@pytest.fixture
def store(tmp_path: Path) -> BrandStore:
    documents = SqliteDocumentStore(tmp_path / "store.sqlite3")
    documents.ensure_schema()
    return documents.for_brand("acme")


def _add_one(doc: dict | None) -> dict:
    return {"id": "counter", "count": (doc or {}).get("count", 0) + 1}


def test_parallel_updates_each_count_once_even_when_the_first_ones_create_the_document(store: BrandStore) -> None:
    in_parallel(8, lambda: update_document(store, CONTAINER, "counter", _add_one, attempts=50))

    assert store.get(CONTAINER, "counter")["count"] == 8


def test_an_update_returns_the_document_before_and_after(store: BrandStore) -> None:
    assert update_document(store, CONTAINER, "counter", _add_one, attempts=1)[0] is None
    before, after = update_document(store, CONTAINER, "counter", _add_one, attempts=1)

    assert (before["count"], after["count"]) == (1, 2)


def test_a_change_answering_none_writes_nothing(store: BrandStore) -> None:
    assert update_document(store, CONTAINER, "counter", lambda doc: None, attempts=1) is None
    assert store.find(CONTAINER, "counter") is None


def _always_overtaken(store: BrandStore, calls: list[int]):
    """A change during which another writer always lands first."""

    def change(doc: dict | None) -> dict:
        calls.append(1)
        store.upsert(CONTAINER, {"id": "counter", "count": 100 + len(calls)})
        return _add_one(doc)

    return change


def test_every_attempt_lost_raises_the_callers_error_after_exactly_that_many_attempts(store: BrandStore) -> None:
    store.create(CONTAINER, {"id": "counter", "count": 0})
    calls: list[int] = []

    with pytest.raises(Conflict, match="kept changing"):
        update_document(store, CONTAINER, "counter", _always_overtaken(store, calls), attempts=4,
                        exhausted=Conflict("The counter kept changing"))

    assert len(calls) == 4
    assert store.get(CONTAINER, "counter")["count"] == 104  # only the other writer's value landed


def test_without_an_exhausted_error_the_last_lost_race_is_raised_again(store: BrandStore) -> None:
    store.create(CONTAINER, {"id": "counter", "count": 0})

    with pytest.raises(EtagMismatch):
        update_document(store, CONTAINER, "counter", _always_overtaken(store, []), attempts=2)


def test_an_exhausted_function_gives_the_answer_instead_of_an_error() -> None:
    def lose() -> bool:
        raise Retry

    assert retrying(lose, attempts=3, exhausted=lambda: False) is False


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise Conflict("refused")

    with pytest.raises(Conflict, match="refused"):
        retrying(refuse, attempts=5)
    assert calls == [1]

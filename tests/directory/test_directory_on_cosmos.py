"""The directory answers the same on Cosmos DB (the local Cosmos-protocol server) as on SQLite: every
listing key, the substring search of the shown name, the distance blocks and the maps."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from shared.adapters.cosmos_store import CosmosDocumentStore
from shared.adapters.folder_blobs import FolderBlobStore
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.brands.models import Brand
from shared.clock import SettableClock
from shared.config import Settings
from shared.directory import service as directory
from shared.identity import repository
from shared.identity.models import Member, Role
from shared.ports.store import DocumentStore
from tests.conftest import T0
from tests.fixtures.cosmos_server import COSMOS_MARKS

pytestmark = list(COSMOS_MARKS)

FIRST = ["Jane", "Jean", "Anna", "Élodie", "Zoé", "Marc"]
LAST = ["Doe", "Xu", "Martin", "Léger", None]


@pytest.fixture(scope="module")
def cosmos(cosmos_settings: Settings) -> Iterator[CosmosDocumentStore]:
    with closing(CosmosDocumentStore(cosmos_settings)) as store:
        store.ensure_schema()
        yield store


def _members() -> list[Member]:
    rng = random.Random(14)
    members = []
    for index in range(40):
        center = (45.7640, 4.8357) if index % 3 else (48.8566, 2.3522)
        presence = ("online", "away", "offline")[index % 3]
        until = T0 + timedelta(minutes=rng.choice([-30, 5, 70])) if presence != "offline" and index % 2 else None
        members.append(Member(
            id=f"m{index:02d}", role=Role.AMBASSADOR, created_at=T0, first_name=rng.choice(FIRST),
            last_name=rng.choice(LAST), alias=rng.choice([None, "Sunny", "Ace", f"Zed{index}"]),
            status="blocked" if index % 17 == 0 else "active",
            visibility={"hideFromCommunity": index % 13 == 0},
            address={"city": rng.choice(["Lyon", "Paris", "Écully"])}, home_shop_id=f"s{index % 4}",
            location={"lat": center[0] + rng.gauss(0, 0.2), "lon": center[1] + rng.gauss(0, 0.3)},
            availability=presence, availability_until=until))
    return members


def _walk(search, **params) -> list[tuple[str, object]]:
    items, token = [], None
    while True:
        page = search(**params, continuation=token)
        items += [(item.id, item.distance_km) for item in page.items]
        token = page.continuation
        if token is None:
            return items


def _answers(store: DocumentStore, policy: str, tmp: Path) -> list:
    brand_id = f"brand-{uuid.uuid4().hex[:10]}"
    members = store.for_brand(brand_id)
    for member in _members():
        repository.save(store=members, container=repository.MEMBERS, model=member, etag=None)
    brand = Brand(id=brand_id, name="Acme", createdAt=T0, updatedAt=T0, displayNamePolicy=policy)
    clock = SettableClock(T0)
    blobs = FolderBlobStore(tmp / "blobs", base_url="http://localhost", signing_key="test", clock=clock)

    def search(view="member", **params):
        return directory.search(store=members, brand=brand, query=directory.make_query(**params), view=view,
                                now=clock.now(), blobs=blobs)

    def clusters(zoom, view="member"):
        found = directory.members_map(store=members, brand=brand, bbox=(43, 0, 50, 8), zoom=zoom, view=view,
                                      now=clock.now())
        return [(c.lat, c.lon, c.count, c.member_id) for c in found.clusters]

    names = [
        _walk(search, page_size=7),
        _walk(search, text="j", page_size=5), _walk(search, text="jane d"), _walk(search, text="ze"),
        *(_walk(search, text=text, match="contains", page_size=5) for text in ("a", "an", "ane", "x.", "nn", "zzz")),
    ]
    if policy != "full_name":
        return names
    return [
        *names,
        _walk(search, city="Lyon", page_size=5), _walk(search, shop_id="s1", page_size=4),
        _walk(search, city="lyon", shop_id="s2"), _walk(search, city="ecully", text="e", match="contains"),
        _walk(search, sort="availability", page_size=8), _walk(search, sort="availability", shop_id="s0"),
        _walk(search, near="45.7,4.9", page_size=12), _walk(search, near="45.7,4.9", radius_km=25, page_size=6),
        _walk(search, near="45.7,4.9", text="an", match="contains", page_size=10),
        _walk(search, view="visitor", near="48.8,2.3", page_size=20),
        clusters(6), clusters(9), clusters(12, view="visitor"),
    ]


@pytest.mark.parametrize("policy", ["full_name", "first_name_initial", "alias"])
def test_the_directory_answers_the_same_on_cosmos_db_as_on_sqlite(cosmos, tmp_path, monkeypatch, policy):
    monkeypatch.setattr(directory, "BLOCK_READ", 5)  # distance blocks split
    sqlite = SqliteDocumentStore(tmp_path / "store.sqlite3")
    sqlite.ensure_schema()
    try:
        expected = _answers(sqlite, policy, tmp_path)
    finally:
        sqlite.close()
    assert expected[0] and sum(map(bool, expected)) > len(expected) // 2  # the data set finds things
    assert _answers(cosmos, policy, tmp_path) == expected

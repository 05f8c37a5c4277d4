"""The member directory on the embedded SQLite store: 10,000 members of one brand (target p95 ≤ 20 ms).

Members are saved through the repository (real documents with their directory projection), spread
around French cities with a sparse countryside; searches by distance (first page of 20 around a
random point, with and without a radius) and by name (prefix of 1 to 3 letters) are timed one by
one, through the same service the routes call. The other lines (contains search, availability order,
maps) are shown for information; a map reads at most `directory.MAP_READ_LIMIT` members and says
`truncated` past it.

Run: .venv/bin/python -m bench.bench_directory
"""

from __future__ import annotations

import random
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.adapters.folder_blobs import FolderBlobStore
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.brands.models import Brand
from shared.clock import SettableClock
from shared.directory import service as directory
from shared.identity import repository
from shared.identity.models import Member, Role

MEMBERS = 10_000
BRAND = "bench-brand"
RUNS = 300
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
CITIES = [(48.8566, 2.3522, 0.25), (45.7640, 4.8357, 0.15), (43.2965, 5.3698, 0.12), (43.6047, 1.4442, 0.1),
          (47.2184, -1.5536, 0.1), (50.6292, 3.0573, 0.1), (44.8378, -0.5792, 0.1), (48.5734, 7.7521, 0.08)]
FIRST = ["Élodie", "Jean", "Marie", "Lucas", "Chloé", "Hugo", "Léa", "Louis", "Emma", "Nathan", "Inès", "Zoé"]


def _member(rng: random.Random, index: int) -> Member:
    if rng.random() < 0.8:
        lat0, lon0, spread = rng.choice(CITIES)
        lat, lon = rng.gauss(lat0, spread), rng.gauss(lon0, spread * 1.4)
    else:
        lat, lon = rng.uniform(42.5, 51), rng.uniform(-4.5, 8)
    return Member(
        id=f"m{index:05d}", role=Role(index % 7), status="active" if rng.random() < 0.95 else "blocked",
        created_at=NOW, first_name=rng.choice(FIRST), last_name="".join(rng.choices(string.ascii_letters, k=7)),
        email=f"member{index}@example.com", address={"city": "Lyon", "postalCode": "69001"},
        home_shop_id=f"shop-{index % 40}", location={"lat": lat, "lon": lon},
        visibility={"hideFromCommunity": rng.random() < 0.05}, availability=rng.choice(["online", "away", "offline"]),
        self_presentation="Bonjour ! " * 20,
    )


def _timed(operation: Callable[[int], object], runs: int) -> tuple[float, float]:
    for index in range(20):  # warm the statement caches
        operation(index)
    samples = []
    for index in range(runs):
        started = time.perf_counter()
        operation(index)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def _line(name: str, figures: tuple[float, float]) -> str:
    median, p95 = figures
    verdict = "ok" if p95 <= 20 else "over 20 ms"
    return f"{name:<34} median {median:6.2f} ms   p95 {p95:6.2f} ms   {verdict}"


def run() -> list[str]:
    """Load the brand, time each kind of search, return one line per figure."""
    rng = random.Random(20300101)
    brand = Brand(id=BRAND, name="Bench", createdAt=NOW, updatedAt=NOW)
    clock = SettableClock(NOW)
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as folder:
        store = SqliteDocumentStore(Path(folder) / "store.sqlite3")
        store.ensure_schema()
        members = store.for_brand(BRAND)
        blobs = FolderBlobStore(Path(folder) / "blobs", base_url="http://localhost", signing_key="bench", clock=clock)
        started = time.perf_counter()
        for index in range(MEMBERS):
            repository.save(store=members, container=repository.MEMBERS, model=_member(rng, index), etag=None)
        load_seconds = time.perf_counter() - started
        points = [f"{rng.gauss(lat, spread):.5f},{rng.gauss(lon, spread):.5f}" if rng.random() < 0.7
                  else f"{rng.uniform(42.5, 51):.5f},{rng.uniform(-4.5, 8):.5f}" for lat, lon, spread in
                  (rng.choice(CITIES) for _ in range(RUNS + 20))]
        prefixes = [rng.choice(FIRST)[: rng.randint(1, 3)] for _ in range(RUNS + 20)]

        def search(**params: object) -> directory.MemberDirectoryPage:
            query = directory.make_query(**params)
            return directory.search(store=members, brand=brand, query=query, view="member", now=clock.now(),
                                    blobs=blobs)

        def france_map() -> directory.DirectoryMap:
            return directory.members_map(store=members, brand=brand, bbox=(42, -5, 51.5, 8.5), zoom=6,
                                         view="member", now=clock.now())

        def lyon_map() -> directory.DirectoryMap:
            return directory.members_map(store=members, brand=brand, bbox=(45.2, 4.0, 46.3, 5.7), zoom=9,
                                         view="member", now=clock.now())

        france, lyon = france_map(), lyon_map()
        figures = [
            _line("distance, first page of 20", _timed(lambda i: search(near=points[i]), RUNS)),
            _line("distance within 10 km", _timed(lambda i: search(near=points[i], radius_km=10), RUNS)),
            _line("distance, third page of 20", _timed(lambda i: _third_page(search, near=points[i]), RUNS // 3)),
            _line("name prefix, first page of 20", _timed(lambda i: search(text=prefixes[i]), RUNS)),
            _line("alphabetical, first page of 20", _timed(lambda i: search(), RUNS)),
            _line("name contains, first page of 20", _timed(lambda i: search(text="ar", match="contains"), 60)),
            _line("name contains, nobody (whole brand)", _timed(lambda i: search(text="qqq", match="contains"), 20)),
            _line("availability, first page of 20", _timed(lambda i: search(sort="availability"), RUNS)),
            _line("availability, third page of 20", _timed(lambda i: _third_page(search, sort="availability"), 60)),
            _line(f"map, France at zoom 6 ({france.truncated=})", _timed(lambda i: france_map(), 20)),
            _line(f"map, Lyon at zoom 9 ({lyon.truncated=})", _timed(lambda i: lyon_map(), 60)),
        ]
        store.close()
    header = f"Member directory on SQLite ({MEMBERS:,} members of one brand, loaded in {load_seconds:.1f} s)"
    return [header, *figures]


def _third_page(search: Callable[..., directory.MemberDirectoryPage], **params: object) -> None:
    token = None
    for _ in range(3):
        token = search(**params, continuation=token).continuation


if __name__ == "__main__":
    for line in run():
        print(line)

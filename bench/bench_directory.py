"""The member directory on the embedded SQLite store, at 10,000 and 100,000 members of one brand.

Targets: p95 ≤ 20 ms at 10,000 members, ≤ 50 ms at 100,000, for every kind of query, each timed one
request at a time through the same service the routes call. Members are real member documents with
their directory projection (`repository.to_document`), written 100 at a time with the store's
`write_batch`; they live around French cities with a sparse countryside, 3 % of them online or away
now and 30 % with a status that ended since (as the App's 15-minute statuses do), 5 % hidden and 5 %
blocked.

Run: .venv/bin/python -m bench.bench_directory (both sizes; `BENCH_DIRECTORY_SIZES=10000` for one).
Why the figures are what they are: docs/decisions/0038-directory-indexes.md.
"""

from __future__ import annotations

import os
import random
import string
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.folder_blobs import FolderBlobStore
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.brands.models import Brand
from shared.clock import SettableClock
from shared.directory import grid
from shared.directory import service as directory
from shared.identity import repository
from shared.identity.models import Member, Role
from shared.ports.store import BrandStore, Write

SIZES = (10_000, 100_000)
TARGETS_MS = {10_000: 20.0, 100_000: 50.0}
BRAND = "bench-brand"
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
CITIES = [("Paris", 48.8566, 2.3522, 0.25), ("Lyon", 45.7640, 4.8357, 0.15), ("Marseille", 43.2965, 5.3698, 0.12),
          ("Toulouse", 43.6047, 1.4442, 0.1), ("Nantes", 47.2184, -1.5536, 0.1), ("Lille", 50.6292, 3.0573, 0.1),
          ("Bordeaux", 44.8378, -0.5792, 0.1), ("Strasbourg", 48.5734, 7.7521, 0.08)]
VILLAGES = [f"Village {index}" for index in range(300)]
FIRST = ["Élodie", "Jean", "Marie", "Lucas", "Chloé", "Hugo", "Léa", "Louis", "Emma", "Nathan", "Inès", "Zoé"]
SHOPS = 40


def _member(rng: random.Random, index: int) -> Member:
    if rng.random() < 0.8:
        city, lat0, lon0, spread = rng.choice(CITIES)
        lat, lon = rng.gauss(lat0, spread), rng.gauss(lon0, spread * 1.4)
    else:
        city, lat, lon = rng.choice(VILLAGES), rng.uniform(42.5, 51), rng.uniform(-4.5, 8)
    # As the App leaves them: online / away for 15 minutes at a time (renewed while in use), so 3 %
    # are online or away now, 30 % were and their status ended since, the others went offline.
    presence = rng.random()
    availability = rng.choice(["online", "online", "away"]) if presence < 0.33 else "offline"
    until = None
    if availability != "offline":
        until = NOW + (timedelta(minutes=rng.uniform(0, 15)) if presence < 0.03 else
                       -timedelta(days=rng.uniform(0, 60)))
    state = rng.random()
    return Member(
        id=f"m{index:06d}", role=Role(index % 7), status="blocked" if state < 0.05 else "active",
        created_at=NOW, first_name=rng.choice(FIRST), last_name="".join(rng.choices(string.ascii_letters, k=7)),
        email=f"member{index}@example.com", address={"city": city, "postalCode": "69001"},
        home_shop_id=f"shop-{index % SHOPS}", location={"lat": lat, "lon": lon},
        visibility={"hideFromCommunity": 0.05 <= state < 0.1}, availability=availability, availability_until=until,
        self_presentation="Bonjour ! " * 20,
    )


def _load(members: BrandStore, count: int, rng: random.Random) -> float:
    started, batch = time.perf_counter(), []
    for index in range(count):
        batch.append(Write("create", repository.to_document(_member(rng, index))))
        if len(batch) == 100:
            members.write_batch(repository.MEMBERS, batch)
            batch = []
    if batch:
        members.write_batch(repository.MEMBERS, batch)
    return time.perf_counter() - started


def _timed(operation: Callable[[int], object], runs: int) -> tuple[float, float]:
    for index in range(10):  # warm the statement caches
        operation(index)
    samples = []
    for index in range(runs):
        started = time.perf_counter()
        operation(index)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[max(0, int(len(samples) * 0.95) - 1)]


def _line(name: str, figures: tuple[float, float], target: float) -> str:
    p50, p95 = figures
    verdict = "ok" if p95 <= target else "OVER"
    return f"  {name:<34} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms (target ≤ {target:.0f} ms)  {verdict}"


def _point(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.7:
        _, lat, lon, spread = rng.choice(CITIES)
        return rng.gauss(lat, spread), rng.gauss(lon, spread)
    return rng.uniform(42.5, 51), rng.uniform(-4.5, 8)


def run_size(count: int) -> list[str]:
    """Load `count` members, time each kind of query, one line per kind."""
    rng = random.Random(20300101)
    brand = Brand(id=BRAND, name="Bench", createdAt=NOW, updatedAt=NOW)
    clock = SettableClock(NOW)
    target = TARGETS_MS[count] if count in TARGETS_MS else 50.0
    runs = 200 if count <= 10_000 else 100
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as folder:
        store = SqliteDocumentStore(Path(folder) / "store.sqlite3")
        store.ensure_schema()
        members = store.for_brand(BRAND)
        blobs = FolderBlobStore(Path(folder) / "blobs", base_url="http://localhost", signing_key="bench", clock=clock)
        load_seconds = _load(members, count, rng)
        points = [f"{lat:.5f},{lon:.5f}" for lat, lon in (_point(rng) for _ in range(runs + 10))]
        streets = [(lat - 0.01, lon - 0.015, lat + 0.01, lon + 0.015) for lat, lon in
                   (_point(rng) for _ in range(runs + 10))]
        prefixes = [rng.choice(FIRST)[: rng.randint(1, 3)] for _ in range(runs + 10)]
        pieces = ["ar", "ea", "lo", "ugo", "mma", "ath", "ari", "ine", "zo", "ou"]
        nobody = ["q7", "x9z", "qqq", "w0", "z8k"]
        cities = [name for name, *_ in CITIES] + ["Village 7", "Village 123"]

        def search(**params: object) -> directory.MemberDirectoryPage:
            query = directory.make_query(**params)
            return directory.search(store=members, brand=brand, query=query, view="member", now=clock.now(),
                                    blobs=blobs)

        def members_map(bbox: tuple[float, float, float, float], zoom: int) -> directory.DirectoryMap:
            return directory.members_map(store=members, brand=brand, bbox=bbox, zoom=zoom, view="member",
                                         now=clock.now())

        # The third page alone: its token comes from the first two, read before the timing.
        third_tokens = []
        for point in points:
            token = None
            for _ in range(2):
                token = search(near=point, continuation=token).continuation
            third_tokens.append(token)
        france, lyon = (42, -5, 51.5, 8.5), (45.2, 4.0, 46.3, 5.7)
        started = time.perf_counter()  # what the directory_grids timer does every few minutes
        grid.rebuild(store=members, now=clock.now())
        rebuild_ms = (time.perf_counter() - started) * 1000
        truncated = {"France": members_map(france, 6).truncated, "Lyon": members_map(lyon, 9).truncated}
        kinds: list[tuple[str, Callable[[int], object]]] = [
            ("name prefix", lambda i: search(text=prefixes[i])),
            ("name contains", lambda i: search(text=pieces[i % len(pieces)], match="contains")),
            ("name contains, no match", lambda i: search(text=nobody[i % len(nobody)], match="contains")),
            ("by city", lambda i: search(city=cities[i % len(cities)])),
            ("by store", lambda i: search(shop_id=f"shop-{i % SHOPS}")),
            ("by availability", lambda i: search(sort="availability")),
            ("distance, page 1", lambda i: search(near=points[i])),
            ("distance, page 3", lambda i: search(near=points[i], continuation=third_tokens[i])),
            ("distance within 10 km", lambda i: search(near=points[i], radius_km=10)),
            (f"map France zoom 6{' (truncated)' if truncated['France'] else ''}", lambda i: members_map(france, 6)),
            (f"map Lyon zoom 9{' (truncated)' if truncated['Lyon'] else ''}", lambda i: members_map(lyon, 9)),
            ("map street zoom 14", lambda i: members_map(streets[i], 14)),
        ]
        lines = [_line(name, _timed(operation, runs), target) for name, operation in kinds]
        store.close()
    header = f"Member directory on SQLite: {count:,} members of one brand (loaded in {load_seconds:.1f} s)"
    rebuild = (f"  low-zoom grid counted again (the timer, every {grid.GRID_REFRESH_MINUTES} min, zooms 0-"
               f"{grid.GRID_MAX_ZOOM}): {rebuild_ms:.0f} ms (for information)")
    return [header, *lines, rebuild]


def run() -> list[str]:
    """Both sizes (or those `BENCH_DIRECTORY_SIZES` names, comma-separated)."""
    chosen = os.environ.get("BENCH_DIRECTORY_SIZES")
    sizes = tuple(int(size) for size in chosen.split(",")) if chosen else SIZES
    lines: list[str] = []
    for size in sizes:
        lines += run_size(size)
    return lines


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)

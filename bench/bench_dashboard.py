"""Tracking dashboards on the embedded SQLite store: one brand, 1,000,000 events' worth of counters.

The events (clicks with their visit, page views, product picks, orders with sales and commission,
refunds) are spread over 1,000 members (Zipf activity: m0000 is the busiest), 10 sources, 4 target
kinds and 365 days, each member using mostly 3 favourite sources and 2 target kinds: about half a
million counter documents (a uniform spread would make almost one per event, and double the setup).
They are aggregated in memory with `counters.merge`, then written in bulk (one upsert per counter
document, in large transactions: `counters.apply` does 2-3 calls per new document, too slow here).
Each view is then timed through the HTTP app (TestClient), median and p95 over RUNS requests.

Run: .venv/bin/python -m bench.bench_dashboard
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from bench.embedded import embedded_container
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.identity import repository
from shared.identity.models import ManagerUser, Member, Role
from shared.tracking import counters
from shared.tracking.models import SOURCES, TARGET_KINDS

BRAND = "bench"
EVENTS = 1_000_000
MEMBERS = 1_000
DAYS = 365
RUNS = 20
NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
_BATCH = 50_000
PROGRESS = False  # main() prints each figure as soon as it is measured


def _events(rng: random.Random) -> dict[counters.CounterKey, counters.Deltas]:
    """Aggregate the events in memory: one increment per counter touched (member + brand roll-up)."""
    first = date(2030, 1, 1) - timedelta(days=DAYS - 1)
    days = [(first + timedelta(days=offset)).isoformat() for offset in range(DAYS)]
    sources, kinds = SOURCES[:10], TARGET_KINDS
    members = [f"m{index:04d}" for index in range(MEMBERS)]
    # Activity is skewed (Zipf: member i has weight 1/(i+1), so m0000 is the busiest) and each
    # member shares mostly through 3 favourite sources and 2 favourite target kinds.
    favourites = {member: (rng.sample(sources, 3), rng.sample(kinds, 2)) for member in members}
    cum_weights = list(itertools.accumulate(1 / (index + 1) for index in range(MEMBERS)))
    # Counting per cell first, then one merge per cell, keeps the setup to seconds.
    cells: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for member in rng.choices(members, cum_weights=cum_weights, k=EVENTS):
        own_sources, own_kinds = favourites[member]
        source = rng.choice(own_sources) if rng.random() < 0.9 else rng.choice(sources)
        kind = rng.choice(own_kinds) if rng.random() < 0.9 else rng.choice(kinds)
        cell = cells[(member, rng.choice(days), source, kind)]
        draw = rng.random()
        if draw < 0.6:
            cell["clicks"] += 1
            cell["externalVisits" if draw < 0.45 else "internalVisits"] += 1
        elif draw < 0.9:
            cell["pageViews"] += 1
        elif draw < 0.96:
            cell["productPicks"] += 1
        elif draw < 0.99:
            currency = "EUR" if draw < 0.985 else "USD"
            amount = rng.randint(1_000, 20_000)
            cell["orders"] += 1
            cell[f"salesMinor.{currency}"] += amount
            cell[f"commissionMinor.{currency}"] += amount // 10
        else:
            cell["refunds"] += 1
    increments: dict[counters.CounterKey, counters.Deltas] = {}
    for (member_id, day, source, kind), deltas in cells.items():
        counters.merge(increments, counters.for_member(member_id, day, source, kind, deltas))
    return increments


def _document(key: counters.CounterKey, deltas: counters.Deltas) -> dict:
    """The document `counters.apply` would leave after these increments on an empty store."""
    doc: dict = {"id": key.id, "pk": key.pk(BRAND), "memberId": key.member_id, "day": key.day,
                 "source": key.source, "targetKind": key.target_kind,
                 **{name: 0 for name in counters.COUNT_FIELDS}, **{name: {} for name in counters.MONEY_FIELDS}}
    for path, value in deltas.items():
        head, _, currency = path.partition(".")
        if currency:
            doc[head][currency] = value
        else:
            doc[head] = value
    return doc


def _load(container, increments: dict[counters.CounterKey, counters.Deltas]) -> None:
    store = container.store.for_brand(BRAND)
    connection = container.store.connection()  # the embedded adapter: batch the upserts in transactions
    items = list(increments.items())
    for start in range(0, len(items), _BATCH):
        connection.execute("BEGIN")
        for key, deltas in items[start:start + _BATCH]:
            store.upsert(counters.CONTAINER, _document(key, deltas))
        connection.execute("COMMIT")


def _timed(operation: Callable[[], object], runs: int) -> tuple[float, float]:
    operation()  # warm the statement caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)]


def _line(name: str, figures: tuple[float, float], runs: int) -> str:
    median, p95 = figures
    return f"{name:<44} median {median:8.1f} ms   p95 {p95:8.1f} ms   ({runs} runs)"


def run() -> list[str]:
    """Load the counters, time every dashboard view; one line per figure."""
    with embedded_container("bench-dashboard-", NOW, log_level="WARNING") as container:
        return _run(container)


def _run(container) -> list[str]:
    from functions.http_api.app import create_app

    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": BRAND, "name": "Bench", "allowedDomains": ["bench.example"]}))
    store = container.store.for_brand(BRAND)
    member = Member(id="m0000", role=Role.VENDOR, created_at=NOW, status="active", first_name="Ana",
                    last_name="Lopes", email="m0000@example.com")
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    manager = ManagerUser(id="mu-bench", level="viewer", status="active", email="mu@example.com",
                          email_hash=container.hasher(BRAND)("email", "mu@example.com"), created_at=NOW)
    repository.save(store=store, container=repository.MANAGER_USERS, model=manager, etag=None)

    started = time.perf_counter()
    increments = _events(random.Random(20300101))
    aggregated = time.perf_counter() - started
    started = time.perf_counter()
    _load(container, increments)
    loaded = time.perf_counter() - started
    rollups = sum(1 for key in increments if key.member_id == counters.BRAND_ROLLUP and not key.is_total)
    day_totals = sum(1 for key in increments if key.is_total)

    ttl = timedelta(hours=1)
    app_headers = {"Authorization": "Bearer " + container.tokens.issue(
        subject=member.id, audience="app", brand_id=BRAND, now=NOW, ttl=ttl, role=int(member.role))}
    manager_headers = {"Authorization": "Bearer " + container.tokens.issue(
        subject=manager.id, audience="manager", brand_id=BRAND, level="viewer", now=NOW, ttl=ttl)}
    last_30 = {"from": "2029-12-03", "to": "2030-01-01"}
    last_365 = {"from": "2029-01-02", "to": "2030-01-01"}
    base = f"/api/v1/manager/brands/{BRAND}/tracking/dashboard"
    lines = [f"Tracking dashboards on SQLite: {EVENTS:,} events over {MEMBERS:,} members (Zipf), 10 sources, "
             f"4 target kinds, {DAYS} days",
             f"  {len(increments):,} counter documents ({rollups:,} brand roll-ups, {day_totals:,} day totals), "
             f"aggregated in "
             f"{aggregated:.1f} s, written in {loaded:.1f} s"]
    if PROGRESS:
        print("\n".join(lines), flush=True)
    with TestClient(create_app(container.settings)) as client:
        def get(url: str, headers: dict[str, str], params: dict[str, str]) -> Callable[[], object]:
            def call() -> object:
                answer = client.get(url, headers=headers, params=params)
                assert answer.status_code == 200, answer.text
                return answer.json()
            return call

        year = get(base, manager_headers, last_365)()
        assert year["totals"]["clicks"] == sum(d.get("clicks", 0) for k, d in increments.items()
                                               if k.member_id == counters.BRAND_ROLLUP and not k.is_total)
        views = [
            ("Manager brand dashboard, 30 days", get(base, manager_headers, last_30), RUNS),
            ("Manager brand dashboard, 365 days", get(base, manager_headers, last_365), RUNS),
            ("Manager by member, 30 days (first 50)", get(f"{base}/members", manager_headers, last_30), 20),
            ("Manager by member, 30 days, by sales", get(f"{base}/members", manager_headers,
                                                         {**last_30, "sortBy": "sales"}), 20),
            ("Manager one member, 365 days", get(f"{base}/members/m0000", manager_headers, last_365), RUNS),
            ("Member dashboard, 30 days", get(f"/api/v1/app/{BRAND}/tracking/dashboard", app_headers, last_30), RUNS),
            ("Member dashboard, 365 days", get(f"/api/v1/app/{BRAND}/tracking/dashboard", app_headers, last_365),
             RUNS),
        ]
        for name, call, runs in views:
            lines.append(_line(name, _timed(call, runs), runs))
            if PROGRESS:
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    """Print the figures as they come."""
    global PROGRESS
    PROGRESS = True
    run()


if __name__ == "__main__":
    main()

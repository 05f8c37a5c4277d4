"""Retention runs read only what is due: 100,000 members (1 % due), then 1,000,000 with the same number due.

Targets: documents read by a run ≤ 1.2 × documents due (reads counted by wrapping the store's
query, not timed); run time with 1,000,000 members ≤ 1.5 × the time with 100,000. Members are
documents shaped by `repository.to_document`, in the steady state a previous run leaves (each
carries its next inactivity step in `retention`), inserted with one `executemany` in one
transaction through the SQLite adapter's connection. The due members get their first warning
(a real enqueue on the embedded bus).

Run: .venv/bin/python -m bench.bench_retention   (BENCH_RETENTION_LARGE=200000 for a quicker run)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from popsell.bootstrap import build_container
from shared.adapters.sqlite_store import SqliteBrandStore
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.clock import SettableClock, isoformat
from shared.config import Settings
from shared.gdpr.retention import nightly
from shared.identity import repository
from shared.identity.models import Member, Role

BRAND = "bench-retention"
DUE = 1_000
NOW = datetime(2033, 1, 1, 3, tzinfo=UTC)


def _documents(total: int, due: int):
    """Member documents: `due` of them past their first warning date, the others years away."""
    created = NOW - timedelta(days=2000)
    template = Member(id="x", role=Role.AMBASSADOR, status="active", created_at=created, first_name="Ana",
                      last_name="Lima", email="x@example.com", email_verified_at=created, preferred_language="en")
    # One document through the repository, then copies with their own id, email and dates (a
    # million pydantic round trips would dominate the setup).
    shape = repository.to_document(template)
    shape["brandId"] = BRAND
    for index in range(total):
        member_id = f"m{index:07d}"
        is_due = index % (total // due) == 0 and index // (total // due) < due
        last = NOW - timedelta(days=1066 if is_due else 100 + index % 900)
        doc = {**shape, "id": member_id, "email": f"{member_id}@example.com", "lastActivityAt": isoformat(last),
               "retention": {"rule": "member_inactive", "step": "warning_1", "since": isoformat(last),
                             "dueAt": isoformat(last + timedelta(days=1065))}}
        yield (BRAND, member_id, BRAND, uuid.uuid4().hex, json.dumps(doc, separators=(",", ":")))


def _case(total: int) -> tuple[int, int, float, float]:
    """(documents read, warned, run seconds, setup seconds) for one store of `total` members."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(env="local", data_dir=Path(folder), demo_brand=False)
        container = build_container(settings, clock=SettableClock(NOW))
        brands.create(store=container.store, clock=container.clock,
                      data=BrandCreate.model_validate({"id": BRAND, "name": "Bench"}))
        started = time.perf_counter()
        conn = container.store.connection()
        # Indexes are built once after the load (much faster than maintained row by row).
        indexes = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'members' AND sql IS NOT NULL")]
        for name in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("BEGIN")
        conn.executemany('INSERT INTO "members" (part, id, brand, etag, doc) VALUES (?, ?, ?, ?, ?)',
                         _documents(total, DUE))
        conn.execute("COMMIT")
        container.store.ensure_schema()
        conn.execute("ANALYZE")
        setup = time.perf_counter() - started

        reads = 0
        original = SqliteBrandStore.query

        def counting(self, container_name, **kwargs):
            nonlocal reads
            page = original(self, container_name, **kwargs)
            if container_name == "members":
                reads += len(page.items)
            return page

        SqliteBrandStore.query = counting
        try:
            started = time.perf_counter()
            report = nightly.run(container=container, family="members")
            elapsed = time.perf_counter() - started
        finally:
            SqliteBrandStore.query = original
        warned = report["totals"].get("warned", 0)
        container.store.close()
        return reads, warned, elapsed, setup


def run() -> list[str]:
    """Figures for `make bench`."""
    small, large = 100_000, int(os.environ.get("BENCH_RETENTION_LARGE", "1000000"))
    lines = []
    reads, warned, small_time, setup = _case(small)
    lines.append(f"{small:,} members, {DUE:,} due: read {reads:,} documents for {warned:,} warnings "
                 f"(ratio {reads / max(warned, 1):.2f}, target ≤ 1.2); run {small_time:.2f} s; setup {setup:.1f} s")
    reads, warned, large_time, setup = _case(large)
    lines.append(f"{large:,} members, {DUE:,} due: read {reads:,} documents for {warned:,} warnings "
                 f"(ratio {reads / max(warned, 1):.2f}); run {large_time:.2f} s; setup {setup:.1f} s")
    lines.append(f"run time {large:,} vs {small:,} members: {large_time / small_time:.2f}× (target ≤ 1.5)")
    return lines


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)

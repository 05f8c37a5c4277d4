"""The hourly snapshot of 200,000 member documents, against the same copy done with sqlite3, gzip and json alone.

An hourly backup reads every document of every container: it must finish well inside its hour and
keep its memory to one part at a time. Targets: snapshot time ≤ 2 × the baseline (the same rows read
with raw sqlite3, re-encoded with json and written gzipped in parts of the same size to files, no
code of ours); the process's peak memory grows by ≤ 64 MiB during the snapshot, whatever the store's
size (parts of `PART_DOCUMENTS` documents are written and dropped one by one). Restore time is
printed next to it (every document written back through the store's upsert).

Run: .venv/bin/python -m bench.bench_backup   (BENCH_BACKUP_DOCUMENTS=50000 for a quicker run)
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.embedded import embedded_container
from shared.backups import restore, snapshots
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.clock import isoformat
from shared.identity import repository
from shared.identity.models import Member, Role

BRAND = "bench-backup"
NOW = datetime(2033, 1, 1, 3, tzinfo=UTC)
TARGET_RATIO = 2.0
TARGET_MEMORY_MIB = 64


def _rows(total: int):
    created = NOW.replace(year=2030)
    shape = repository.to_document(Member(id="x", role=Role.AMBASSADOR, status="active", created_at=created,
                                          first_name="Ana", last_name="Lima", email="x@example.com",
                                          preferred_language="en"))
    shape["brandId"] = BRAND
    for index in range(total):
        member_id = f"m{index:07d}"
        doc = {**shape, "id": member_id, "email": f"{member_id}@example.com", "lastActivityAt": isoformat(created)}
        yield (BRAND, member_id, BRAND, uuid.uuid4().hex, json.dumps(doc, separators=(",", ":")))


def _baseline(database: Path, folder: Path) -> float:
    """Read the members table with sqlite3 and write it as gzipped JSON lines in parts: seconds."""
    folder.mkdir()
    started = time.perf_counter()
    conn = sqlite3.connect(database)
    lines: list[bytes] = []
    parts = 0
    for (doc,) in conn.execute('SELECT doc FROM "members"'):
        lines.append(json.dumps({"doc": json.loads(doc)}, separators=(",", ":"), ensure_ascii=False).encode())
        if len(lines) == snapshots.PART_DOCUMENTS:
            (folder / f"{parts}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
            parts, lines = parts + 1, []
    if lines:
        (folder / f"{parts}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    conn.close()
    return time.perf_counter() - started


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kibibytes


def run() -> list[str]:
    total = int(os.environ.get("BENCH_BACKUP_DOCUMENTS", "200000"))
    with embedded_container("bench-backup-", NOW) as container:
        brands.create(store=container.store, clock=container.clock,
                      data=BrandCreate.model_validate({"id": BRAND, "name": "Bench"}))
        conn = container.store.connection()
        conn.execute("BEGIN")
        conn.executemany('INSERT INTO "members" (part, id, brand, etag, doc) VALUES (?, ?, ?, ?, ?)', _rows(total))
        conn.execute("COMMIT")
        # Ours first: the baseline's own peak would hide the snapshot's, and it reads a warmer cache.
        before = _peak_mib()
        started = time.perf_counter()
        report = snapshots.take(store=container.store, blobs=container.backup_blobs, kind=snapshots.HOURLY,
                                clock=container.clock)
        took = time.perf_counter() - started
        grown = _peak_mib() - before
        data_dir = Path(container.settings.data_dir)
        baseline = _baseline(data_dir / "store.sqlite3", data_dir / "baseline")

        snapshot = snapshots.find(blobs=container.backup_blobs, reference=f"hourly/{report['period']}")
        started = time.perf_counter()
        restored = restore.restore(store=container.store, blobs=container.backup_blobs, snapshot=snapshot,
                                   now=container.clock.now())
        restore_took = time.perf_counter() - started
    ratio = took / baseline
    return [
        f"documents in the snapshot: {report['documents']:,} ({total:,} members)",
        f"hourly snapshot: {took:.2f} s; sqlite3 + json + gzip alone: {baseline:.2f} s; "
        f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO})",
        f"peak memory growth during the snapshot: {max(grown, 0):.1f} MiB (target ≤ {TARGET_MEMORY_MIB} MiB)",
        f"restore of the same snapshot: {restore_took:.2f} s "
        f"({restored['containers']['members']['restored']:,} members written back)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)

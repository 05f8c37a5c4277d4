"""Snapshots of the whole document store in blob storage: the guide's hourly and monthly backups.

Cosmos DB's continuous backup restores any second of the last 30 days, its documented maximum; the
guide keeps hourly backups 40 days and monthly ones a year (docs/decisions/0027-backups.md). So each
hour the `backup_hourly` timer writes every document of every container to `backups-hourly`, kept
40 days, and the first `backup_monthly` run of a month writes one to `backups-monthly`, kept 366
days. In production both containers are in the backup storage account, immutable for exactly that
long, and lifecycle rules delete what is older (infra/modules/backup-storage.bicep).

A container's blobs:
    manifests/<kind>/<period>/<attempt>.json               written last: the snapshot exists once it does
    <kind>/<period>/<attempt>/<container>/<n>.jsonl.gz     gzipped JSON lines {"doc": ..., "expiresAt": ...}

Every write has a name of its own (an immutable blob cannot be overwritten): a run that dies leaves
parts without a manifest, which nothing reads and the lifecycle rule deletes; two runs at once each
write a whole snapshot, and the first manifest of a period, in name order, is its snapshot.

A snapshot is read over minutes while the app keeps writing, so it is not one instant of the whole
store (Cosmos DB's point-in-time restore is): each document is as it was when it was read.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.clock import Clock, isoformat
from shared.errors import InvalidInput, NotFound
from shared.ports.blobs import CONTAINER_HOURLY, CONTAINER_MONTHLY, BlobNotFound, BlobStore
from shared.ports.store import DocumentStore, StoredDocument
from shared.store_schema import CONTAINERS

log = logging.getLogger(__name__)

FORMAT = 1
# Documents per part blob: bounds what a run holds in memory, whatever a container's size.
PART_DOCUMENTS = 5000


_ATTEMPT = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}\Z")


@dataclass(frozen=True)
class Kind:
    """A kind of snapshot: its blob container, and how its period is named (one snapshot per period)."""

    name: str
    container: str
    period_format: str

    def period(self, at: datetime) -> str:
        return at.astimezone(UTC).strftime(self.period_format)

    def is_period(self, text: str) -> bool:
        try:
            return datetime.strptime(text, self.period_format).strftime(self.period_format) == text
        except ValueError:
            return False


HOURLY = Kind("hourly", CONTAINER_HOURLY, "%Y-%m-%dT%H")
MONTHLY = Kind("monthly", CONTAINER_MONTHLY, "%Y-%m")
# Taken by hand (`backup take`), e.g. of an account Cosmos DB restored: kept as long as the hourly ones.
MANUAL = Kind("manual", CONTAINER_HOURLY, "%Y-%m-%dT%H%M%S")
KINDS: dict[str, Kind] = {kind.name: kind for kind in (HOURLY, MONTHLY, MANUAL)}


@dataclass(frozen=True)
class Snapshot:
    """One snapshot: `<kind>/<period>/<attempt>` names it."""

    kind: Kind
    period: str
    attempt: str

    @property
    def id(self) -> str:
        return f"{self.kind.name}/{self.period}/{self.attempt}"

    @property
    def manifest_name(self) -> str:
        return f"manifests/{self.id}.json"

    def part_name(self, container: str, index: int) -> str:
        return f"{self.id}/{container}/{index:05d}.jsonl.gz"


def taken(*, blobs: BlobStore, kind: Kind, period: str | None = None) -> list[Snapshot]:
    """The finished snapshots of a kind (of one period), oldest first."""
    prefix = f"manifests/{kind.name}/" + (f"{period}/" if period else "")
    found = []
    for info in blobs.list(kind.container, prefix=prefix):
        parts = info.name.removeprefix(f"manifests/{kind.name}/").removesuffix(".json").split("/")
        if len(parts) == 2 and kind.is_period(parts[0]) and _ATTEMPT.match(parts[1]):
            found.append(Snapshot(kind, parts[0], parts[1]))
    return sorted(found, key=lambda snapshot: (snapshot.period, snapshot.attempt))


def find(*, blobs: BlobStore, reference: str) -> Snapshot:
    """The snapshot `<kind>/<period>/<attempt>`, or the one of `<kind>/<period>`; NotFound otherwise."""
    parts = reference.strip().split("/")
    kind = KINDS.get(parts[0])
    if kind is None or len(parts) not in (2, 3) or not kind.is_period(parts[1]):
        raise InvalidInput(f"a snapshot is <kind>/<period>[/<attempt>], kind one of {', '.join(KINDS)}",
                           field="snapshot")
    for snapshot in taken(blobs=blobs, kind=kind, period=parts[1]):
        if len(parts) == 2 or snapshot.attempt == parts[2]:
            return snapshot
    raise NotFound(f"no finished snapshot {reference}")


def take(*, store: DocumentStore, blobs: BlobStore, kind: Kind, clock: Clock, as_of: datetime | None = None,
         dry_run: bool = False) -> dict[str, Any]:
    """Write this period's snapshot of every container, unless the period has one; a PII-free report.

    `as_of` is the instant the data stands for when it is older than the run (a copy Cosmos DB
    restored to that instant); the erasure journal is replayed from it after a restore.
    """
    started = clock.now()
    period = kind.period(started)
    report: dict[str, Any] = {"kind": kind.name, "period": period}
    existing = taken(blobs=blobs, kind=kind, period=period)
    if existing:
        return {**report, "taken": False, "snapshot": existing[0].id}
    if dry_run:
        return {**report, "taken": False, "dryRun": True}
    snapshot = Snapshot(kind, period, f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    containers = {name: _write_container(store, blobs, snapshot, name, started.timestamp()) for name in CONTAINERS}
    manifest = {"format": FORMAT, "snapshot": snapshot.id, "takenAt": isoformat(started),
                "finishedAt": isoformat(clock.now()), "asOf": isoformat(as_of or started), "containers": containers}
    blobs.put(kind.container, snapshot.manifest_name, json.dumps(manifest, indent=1).encode(),
              content_type="application/json")
    documents = sum(entry["documents"] for entry in containers.values())
    log.info("backup snapshot %s taken: %d documents", snapshot.id, documents)
    return {**report, "taken": True, "snapshot": snapshot.id, "documents": documents}


def _write_container(store: DocumentStore, blobs: BlobStore, snapshot: Snapshot, container: str,
                     now: float) -> dict[str, Any]:
    parts: list[str] = []
    lines: list[bytes] = []
    documents = 0

    def flush() -> None:
        name = snapshot.part_name(container, len(parts))
        blobs.put(snapshot.kind.container, name, gzip.compress(b"\n".join(lines) + b"\n"),
                  content_type="application/gzip")
        parts.append(name)
        lines.clear()

    for stored in store.export_documents(container):
        if stored.expires_at is not None and stored.expires_at <= now:
            continue  # already gone as far as the app is concerned
        record: dict[str, Any] = {"doc": stored.doc}
        if stored.expires_at is not None:
            record["expiresAt"] = stored.expires_at
        lines.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode())
        documents += 1
        if len(lines) == PART_DOCUMENTS:
            flush()
    if lines:
        flush()
    return {"documents": documents, "parts": parts}


def read_manifest(*, blobs: BlobStore, snapshot: Snapshot) -> dict[str, Any]:
    """A finished snapshot's manifest, every part it lists checked present (before anything is restored)."""
    try:
        manifest = json.loads(blobs.get(snapshot.kind.container, snapshot.manifest_name))
    except BlobNotFound:
        raise NotFound(f"no finished snapshot {snapshot.id}") from None
    if manifest.get("format") != FORMAT or manifest.get("snapshot") != snapshot.id:
        raise InvalidInput(f"snapshot {snapshot.id}: unknown manifest format", field="snapshot")
    present = {info.name for info in blobs.list(snapshot.kind.container, prefix=f"{snapshot.id}/")}
    missing = [name for entry in manifest["containers"].values() for name in entry["parts"] if name not in present]
    if missing:
        raise InvalidInput(f"snapshot {snapshot.id} is incomplete: {len(missing)} part(s) missing",
                           field="snapshot")
    return manifest


def documents(*, blobs: BlobStore, snapshot: Snapshot, manifest: dict[str, Any], container: str
              ) -> Iterator[StoredDocument]:
    """The documents a snapshot holds for one container (none when the snapshot predates the container)."""
    for name in manifest["containers"].get(container, {}).get("parts", []):
        for line in gzip.decompress(blobs.get(snapshot.kind.container, name)).splitlines():
            if line:
                record = json.loads(line)
                yield StoredDocument(record["doc"], record.get("expiresAt"))

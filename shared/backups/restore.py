"""Restore a snapshot into the document store: afterwards the store holds what the snapshot holds.

Each container is made equal to the snapshot: its documents are written back (an expiring one with
the time it had left when the snapshot was taken, one that has expired since is not), and the
documents the snapshot does not hold are deleted. The append-only records of what was done to
people's data are the exception: they only gain the entries they lack, never lose one, because the
erasure journal replay that must follow a restore reads the live journal (docs/decisions/0010).
A restore run twice, or run again after it stopped half-way, ends in the same state.

Run it with the app stopped, then the journal replay from the snapshot's `replaySince`
(docs/deploy.md "Restoring a backup"): the snapshot brings back whoever was erased after it.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from shared.backups import snapshots
from shared.backups.snapshots import Snapshot
from shared.ports.blobs import BlobStore
from shared.ports.store import Document, DocumentConflict, DocumentNotFound, DocumentStore, StoredDocument
from shared.store_schema import CONTAINERS

log = logging.getLogger(__name__)

# Never rolled back: the GDPR register (the record of the requests people made). The erasure journal
# (what the replay applies again) is not in the store at all: a write-once blob container.
MERGED_ON_RESTORE = frozenset({"gdpr_register"})

_Key = tuple[str, str | None, str]
COUNTS = ("restored", "kept", "expired", "removed")


def _key(doc: Document) -> _Key:
    return doc["brandId"], doc.get("pk"), doc["id"]


def _as_restored(stored: StoredDocument, now: float) -> Document:
    """The document to write back: an expiring one keeps the time it had left, not a fresh ttl."""
    if stored.expires_at is None:
        return stored.doc
    return {**stored.doc, "ttl": max(1, math.ceil(stored.expires_at - now))}


def restore(*, store: DocumentStore, blobs: BlobStore, snapshot: Snapshot, now: datetime,
            dry_run: bool = False) -> dict[str, Any]:
    """Make the store equal to the snapshot; counts per container and the instant to replay the journal from."""
    manifest = snapshots.read_manifest(blobs=blobs,
                                       snapshot=snapshot)  # refuses an incomplete snapshot before any write
    containers = {name: _restore_container(store, blobs, snapshot, manifest, name, now.timestamp(), dry_run)
                  for name in CONTAINERS}
    totals = {count: sum(entry[count] for entry in containers.values()) for count in COUNTS}
    log.info("backup %s restored%s: %s", snapshot.id, " (dry run)" if dry_run else "", totals)
    return {"snapshot": snapshot.id, "replaySince": manifest["asOf"], "dryRun": dry_run, "totals": totals,
            "containers": {name: counts for name, counts in containers.items() if any(counts.values())}}


def _restore_container(store: DocumentStore, blobs: BlobStore, snapshot: Snapshot, manifest: dict[str, Any],
                       container: str, now: float, dry_run: bool) -> dict[str, int]:
    counts = dict.fromkeys(COUNTS, 0)
    merged = container in MERGED_ON_RESTORE
    held: set[_Key] = set()
    for stored in snapshots.documents(blobs=blobs, snapshot=snapshot, manifest=manifest, container=container):
        if stored.expires_at is not None and stored.expires_at <= now:
            counts["expired"] += 1
            continue
        doc = _as_restored(stored, now)
        held.add(_key(doc))
        brand = store.for_brand(doc["brandId"])
        if not merged:
            if not dry_run:
                brand.upsert(container, doc)
            counts["restored"] += 1
        elif dry_run:
            counts["kept" if brand.find(container, doc["id"], pk=doc.get("pk")) else "restored"] += 1
        else:
            try:
                brand.create(container, doc)
                counts["restored"] += 1
            except DocumentConflict:
                counts["kept"] += 1  # the live entry stands
    if merged:
        return counts
    # Collected first: deleting while the store is being read could skip documents.
    extra = [_key(current.doc) for current in store.export_documents(container) if _key(current.doc) not in held]
    counts["removed"] = len(extra)
    if not dry_run:
        for brand_id, pk, doc_id in extra:
            try:
                store.for_brand(brand_id).delete(container, doc_id, pk=pk)
            except DocumentNotFound:
                pass  # deleted meanwhile (a restore running twice at once)
    return counts

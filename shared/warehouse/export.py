"""The daily data-warehouse export: an anonymised snapshot per brand, with no history kept.

Data Protection Guide v4, "Data exported": the warehouse feeds data marts, dashboards and
reports; erased or hashed data shows erased, and "there is no historical record of the data
stored in the data warehouse": each day's snapshot replaces the previous one. What leaves is
the allow-list of `shared.warehouse.tables`, one table per entity.

Each run writes its own folder of blob container `warehouse`, one file per table and the manifest
last, then deletes the brand's other folders (`shared.warehouse.folders`): a crash at any
step leaves a complete snapshot to load, the previous one until the new manifest is written, the
new one after.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from shared.clock import isoformat
from shared.ports.blobs import CONTAINER_WAREHOUSE, BlobStore
from shared.ports.store import BrandStore, Document, DocumentStore
from shared.privacy.hashing import BrandHasher
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import link_codes
from shared.warehouse import folders
from shared.warehouse.columns import Context, anonymise
from shared.warehouse.tables import DATASETS, Dataset, columns_of

log = logging.getLogger("popsell.gdpr.warehouse")

SCHEMA_VERSION = 2
PAGE_SIZE = 200
# Where a day's export failed, the previous snapshot stays one more day, never longer: erasures
# reach the warehouse within two days whatever happens.
MAX_STALE_SNAPSHOT = timedelta(days=1)
JSONL = "application/x-ndjson"


def context(*, store: DocumentStore, brand_id: str, day: date, hasher: BrandHasher) -> Context:
    """What the columns of one brand's snapshot of one day read besides their documents."""
    platform = store.for_brand(PLATFORM_SCOPE)

    def reference(value: str) -> str:
        # Keyed with the brand's key over the day: rows of one snapshot join, nothing links them to
        # the ids production shows (or to another day's snapshot).
        return hasher("member", f"warehouse:{day.isoformat()}:{value}")[:32]

    @lru_cache(maxsize=4096)  # many orders come through the same few links
    def link_id(code: str) -> str | None:
        found = link_codes.find(platform=platform, code=code)
        return found.link_id if found is not None and found.brand == brand_id else None

    return Context(reference=reference, link_id=link_id)


def _documents(store: BrandStore, container: str) -> Iterator[Document]:
    """Every document of the brand, one page at a time (a brand is never held in memory)."""
    continuation = None
    while True:
        page = store.query(container, order_by="id", page_size=PAGE_SIZE, continuation=continuation)
        yield from page.items
        continuation = page.continuation
        if continuation is None:
            return


def render(*, store: BrandStore, dataset: Dataset, context: Context) -> tuple[bytes, int]:
    """The JSON Lines of one dataset and its row count.

    Only the anonymised lines are buffered (a few hundred bytes a row): the blob port takes bytes.
    """
    buffer = io.BytesIO()
    rows = 0
    for doc in _documents(store, dataset.container):
        if not dataset.selects(doc):
            continue
        line = json.dumps(anonymise(doc, dataset.columns, context), ensure_ascii=False, separators=(",", ":"))
        buffer.write(line.encode() + b"\n")
        rows += 1
    return buffer.getvalue(), rows


# --- the export --------------------------------------------------------------------------------------


def export_brand(*, store: DocumentStore, blobs: BlobStore, brand_id: str, now: datetime, hasher: BrandHasher,
                 dry_run: bool = False, folder: str | None = None) -> dict[str, int]:
    """Write a new snapshot of one brand into `folder` (manifest last), then delete its other folders; counts only.

    Running twice the same day writes the same rows again in a new folder and drops the first.
    """
    folder = folder or folders.new_folder(brand_id, now)
    brand_store = store.for_brand(brand_id)
    columns = context(store=store, brand_id=brand_id, day=now.date(), hasher=hasher)
    counts: dict[str, int] = {}
    for dataset in DATASETS:
        data, rows = render(store=brand_store, dataset=dataset, context=columns)
        if not dry_run:
            blobs.put(CONTAINER_WAREHOUSE, folder + dataset.file, data, content_type=JSONL)
        counts[dataset.name] = rows
    manifest = {
        "schemaVersion": SCHEMA_VERSION,
        "brandId": brand_id,
        "date": now.date().isoformat(),
        "generatedAt": isoformat(now),
        "files": {dataset.file: {"rows": counts[dataset.name], "columns": columns_of(dataset)}
                  for dataset in DATASETS},
    }
    if not dry_run:
        blobs.put(CONTAINER_WAREHOUSE, folder + folders.MANIFEST, json.dumps(manifest, indent=2).encode(),
                  content_type="application/json")
    counts["filesDeleted"] = folders.prune(blobs=blobs, brand_id=brand_id, mine=folder,
                                           written_at=manifest["generatedAt"],
                                           oldest_kept=now.date(), dry_run=dry_run)
    return counts


def _drop_stale(blobs: BlobStore, brand_id: str, failed: str, now: datetime, dry_run: bool) -> int:
    """After a failed export: the previous snapshot may stay one more day; the failed run's folder and older go."""
    try:
        return folders.prune(blobs=blobs, brand_id=brand_id, mine=failed, written_at=None,
                             oldest_kept=now.date() - MAX_STALE_SNAPSHOT, dry_run=dry_run)
    except Exception as exc:
        log.error("warehouse clean-up of brand %s failed (%s)", brand_id, type(exc).__name__)
        return 0


def export_all(*, store: DocumentStore, blobs: BlobStore, now: datetime, brand_ids: list[str],
               hasher: Callable[[str], BrandHasher], dry_run: bool = False) -> dict[str, Any]:
    """Export every brand (a failure stays with its brand); a PII-free report of counts."""
    report: dict[str, Any] = {"dryRun": dry_run, "brands": len(brand_ids), "exported": 0, "failed": 0,
                              **{dataset.name: 0 for dataset in DATASETS}, "filesDeleted": 0}
    for brand_id in brand_ids:
        folder = folders.new_folder(brand_id, now)
        try:
            counts = export_brand(store=store, blobs=blobs, brand_id=brand_id, now=now, hasher=hasher(brand_id),
                                  dry_run=dry_run, folder=folder)
        except Exception as exc:
            report["failed"] += 1
            log.error("warehouse export of brand %s failed (%s)", brand_id, type(exc).__name__)
            report["filesDeleted"] += _drop_stale(blobs, brand_id, folder, now, dry_run)
            continue
        report["exported"] += 1
        for name, count in counts.items():
            report[name] += count
    report["filesDeleted"] += folders.drop_orphan_brands(blobs=blobs, brand_ids=set(brand_ids), dry_run=dry_run)
    log.info("warehouse export: %d brands, %d failed, %d members, %d orders%s", report["brands"],
             report["failed"], report["members"], report["orders"], " (dry run)" if dry_run else "")
    return report

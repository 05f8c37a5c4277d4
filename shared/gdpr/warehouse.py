"""The daily data-warehouse export: an anonymised snapshot per brand, with no history kept.

Data Protection Guide v4, "Data exported": everything exported is anonymous except first name,
last name and alias of Members; email addresses, phone numbers and complete postal addresses are
never exported; city, postal code, or a geocode no finer than the city, are. Erased or hashed
data shows erased, and "there is no historical record of the data stored in the data warehouse":
each day's snapshot replaces the previous one.

Blob layout (container `warehouse`), the manifest written last so a loader that finds it finds
complete files:

    <brand>/<YYYY-MM-DD>/members.jsonl
    <brand>/<YYYY-MM-DD>/visitors.jsonl
    <brand>/<YYYY-MM-DD>/manifest.json

What leaves production is ONE explicit allow-list per dataset (`MEMBER_COLUMNS`,
`VISITOR_COLUMNS`): a field nobody listed never leaves, whatever a later issue adds to a document.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.clock import isoformat
from shared.identity.models import Role
from shared.ports.blobs import CONTAINER_WAREHOUSE, BlobStore
from shared.ports.store import BrandStore, Document, DocumentStore

log = logging.getLogger("popsell.gdpr.warehouse")

# Not in shared.ports.blobs.BLOB_CONTAINERS yet: the lead adds it there and to infra (see docs/warehouse-export.md).

SCHEMA_VERSION = 1
PAGE_SIZE = 200
# Where a day's export failed, the previous snapshot stays one more day, never longer: erasures
# reach the warehouse within two days whatever happens.
MAX_STALE_SNAPSHOT = timedelta(days=1)
JSONL = "application/x-ndjson"


@dataclass(frozen=True)
class Column:
    """One exported field: its name in the snapshot, how it is read from the document, and why it may leave."""

    name: str
    read: Callable[[Document], Any]
    why: str


def _at(doc: Document, path: str) -> Any:
    value: Any = doc
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(path: str) -> Callable[[Document], str | None]:
    def read(doc: Document) -> str | None:
        value = _at(doc, path)
        return value if isinstance(value, str) and value else None

    return read


def _int(path: str) -> Callable[[Document], int | None]:
    def read(doc: Document) -> int | None:
        value = _at(doc, path)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return read


def _flag(path: str, default: bool) -> Callable[[Document], bool]:
    def read(doc: Document) -> bool:
        value = _at(doc, path)
        return value if isinstance(value, bool) else default

    return read


def _day(path: str) -> Callable[[Document], str | None]:
    """An instant cut to its date: the warehouse needs no finer time of a person's doings."""

    def read(doc: Document) -> str | None:
        value = _at(doc, path)
        if not isinstance(value, str) or len(value) < 10:
            return None
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None

    return read


def _present(path: str) -> Callable[[Document], bool]:
    return lambda doc: _at(doc, path) is not None


def names_erased(doc: Document) -> bool:
    """An erased member of role 0 (the general public) has no name, whatever the document still holds."""
    role = doc.get("role")
    under_contract = isinstance(role, int) and Role.EMPLOYEE <= role <= Role.EXPERT
    return doc.get("status") == "erased" and not under_contract


def _member_name(path: str) -> Callable[[Document], str | None]:
    text = _text(path)
    # A member who restricted processing (GDPR article 18) is counted, never named, until it is lifted.
    return lambda doc: None if names_erased(doc) or doc.get("restriction") else text(doc)


def _birth_year(doc: Document) -> int | None:
    year = _int("birthYear")(doc)
    if year is not None:
        return year
    birth_date = _text("birthDate")(doc)
    return int(birth_date[:4]) if birth_date and birth_date[:4].isdigit() else None


def _coarse(axis: str) -> Callable[[Document], float | None]:
    """A coordinate rounded to 0.1 degree (about 11 km): a geocode no finer than the city."""

    def read(doc: Document) -> float | None:
        value = _at(doc, f"location.{axis}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return round(float(value), 1)

    return read


_ID = "opaque id: lets dashboards join"
_KPI = "dashboards and reports (not personal on its own)"

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("id", _text("id"), _ID),
    Column("brandId", _text("brandId"), "the brand the row belongs to"),
    Column("role", _int("role"), _KPI),
    Column("status", _text("status"), _KPI),
    Column("createdAt", _day("createdAt"), "creation date (date only): kept on erasure"),
    Column("lastActivityAt", _day("lastActivityAt"), "last activity (date only): activity KPIs"),
    Column("firstName", _member_name("firstName"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("lastName", _member_name("lastName"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("alias", _member_name("alias"), "Members only: Member KPIs (null once erased for role 0)"),
    Column("city", _text("address.city"), "city: allowed, kept on erasure"),
    Column("postalCode", _text("address.postalCode"), "postal code: allowed, kept on erasure"),
    Column("country", _text("address.country"), "country code: not a complete address"),
    Column("lat", _coarse("lat"), "geocode rounded to 0.1 degree: no finer than the city"),
    Column("lon", _coarse("lon"), "geocode rounded to 0.1 degree: no finer than the city"),
    Column("homeShopId", _text("homeShopId"), "the brand's shop reference: KPIs per shop"),
    Column("preferredLanguage", _text("preferredLanguage"), _KPI),
    Column("birthYear", _birth_year, "year only: day and month are never exported"),
    Column("popsellTermsAccepted", _present("popsellTerms"), "consent state as a boolean"),
    Column("optInNewsletters", _flag("communication.newsletters", True), "consent state as a boolean"),
    Column("optInEventNotifications", _flag("communication.eventNotifications", True), "consent state as a boolean"),
    Column("optInChallengeNotifications", _flag("communication.challengeNotifications", True),
           "consent state as a boolean"),
    Column("optInCommentNotifications", _flag("communication.commentNotifications", True),
           "consent state as a boolean"),
    Column("hideEventsInLiveStream", _flag("visibility.hideEventsInLiveStream", False), "opt-out as a boolean"),
    Column("hideFromCommunity", _flag("visibility.hideFromCommunity", False), "opt-out as a boolean"),
)

# Visitors are not Members: no name of any kind, no email_tmp, no hash.
VISITOR_COLUMNS: tuple[Column, ...] = (
    Column("id", _text("id"), _ID),
    Column("brandId", _text("brandId"), "the brand the row belongs to"),
    Column("role", _int("role"), _KPI),
    Column("status", _text("status"), _KPI),
    Column("createdAt", _day("createdAt"), "creation date (date only)"),
    Column("lastInteractionAt", _day("lastInteractionAt"), "last widget interaction (date only)"),
    Column("serviceTermsAccepted", _present("serviceTerms"), "consent state as a boolean"),
    Column("mergedInto", _text("mergedInto"), _ID),
)


@dataclass(frozen=True)
class Dataset:
    """One file of a snapshot: the store container it reads and the columns it writes."""

    name: str
    container: str
    columns: tuple[Column, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"


DATASETS = (Dataset("members", "members", MEMBER_COLUMNS), Dataset("visitors", "visitors", VISITOR_COLUMNS))


def anonymise(doc: Document, columns: tuple[Column, ...]) -> dict[str, Any]:
    """The exported row of one document: exactly the allow-listed columns, in order."""
    return {column.name: column.read(doc) for column in columns}


def _documents(store: BrandStore, container: str) -> Iterator[Document]:
    """Every document of the brand, one page at a time (a brand is never held in memory)."""
    continuation = None
    while True:
        page = store.query(container, order_by="id", page_size=PAGE_SIZE, continuation=continuation)
        yield from page.items
        continuation = page.continuation
        if continuation is None:
            return


def render(store: BrandStore, dataset: Dataset) -> tuple[bytes, int]:
    """The JSON Lines of one dataset and its row count.

    Only the anonymised lines are buffered (a few hundred bytes a row): the blob port takes bytes.
    """
    buffer = io.BytesIO()
    rows = 0
    for doc in _documents(store, dataset.container):
        line = json.dumps(anonymise(doc, dataset.columns), ensure_ascii=False, separators=(",", ":"))
        buffer.write(line.encode() + b"\n")
        rows += 1
    return buffer.getvalue(), rows


def snapshot_folder(brand_id: str, day: date) -> str:
    """The blob folder of one brand's snapshot of one day."""
    return f"{brand_id}/{day.isoformat()}/"


def _snapshot_day(name: str) -> date | None:
    parts = name.split("/")
    try:
        return date.fromisoformat(parts[1]) if len(parts) >= 3 else None
    except ValueError:
        return None


def drop_snapshots(*, blobs: BlobStore, brand_id: str, keep: Callable[[date | None], bool],
                   dry_run: bool = False) -> int:
    """Delete a brand's warehouse files whose day `keep` refuses; the number of files (to be) deleted."""
    doomed = [blob.name for blob in blobs.list(CONTAINER_WAREHOUSE, prefix=f"{brand_id}/")
              if not keep(_snapshot_day(blob.name))]
    if not dry_run:
        for name in doomed:
            blobs.delete(CONTAINER_WAREHOUSE, name)
    return len(doomed)


def export_brand(*, store: DocumentStore, blobs: BlobStore, brand_id: str, now: datetime,
                 dry_run: bool = False) -> dict[str, int]:
    """Write today's snapshot of one brand, then delete its other days; counts only.

    Running twice the same day rewrites the same files with the same content (idempotent).
    """
    today = now.date()
    folder = snapshot_folder(brand_id, today)
    brand_store = store.for_brand(brand_id)
    counts: dict[str, int] = {}
    for dataset in DATASETS:
        data, rows = render(brand_store, dataset)
        if not dry_run:
            blobs.put(CONTAINER_WAREHOUSE, folder + dataset.file, data, content_type=JSONL)
        counts[dataset.name] = rows
    manifest = {
        "schemaVersion": SCHEMA_VERSION,
        "brandId": brand_id,
        "date": today.isoformat(),
        "generatedAt": isoformat(now),
        "files": {dataset.file: {"rows": counts[dataset.name], "columns": [c.name for c in dataset.columns]}
                  for dataset in DATASETS},
    }
    if not dry_run:
        blobs.put(CONTAINER_WAREHOUSE, folder + "manifest.json", json.dumps(manifest, indent=2).encode(),
                  content_type="application/json")
    counts["filesDeleted"] = drop_snapshots(blobs=blobs, brand_id=brand_id, keep=lambda day: day == today,
                                            dry_run=dry_run)
    return counts


def drop_orphan_brands(*, blobs: BlobStore, brand_ids: set[str], dry_run: bool = False) -> int:
    """Delete the warehouse files of brands that no longer exist; the number of files."""
    doomed = [blob.name for blob in blobs.list(CONTAINER_WAREHOUSE) if blob.name.split("/", 1)[0] not in brand_ids]
    if not dry_run:
        for name in doomed:
            blobs.delete(CONTAINER_WAREHOUSE, name)
    return len(doomed)


def _drop_stale(blobs: BlobStore, brand_id: str, oldest_kept: date, dry_run: bool) -> int:
    """After a failed export: the previous snapshot may stay one more day, nothing older."""
    try:
        return drop_snapshots(blobs=blobs, brand_id=brand_id, dry_run=dry_run,
                              keep=lambda day: day is not None and day >= oldest_kept)
    except Exception as exc:
        log.error("warehouse clean-up of brand %s failed (%s)", brand_id, type(exc).__name__)
        return 0


def export_all(*, store: DocumentStore, blobs: BlobStore, now: datetime, brand_ids: list[str],
               dry_run: bool = False) -> dict[str, Any]:
    """Export every brand (a failure stays with its brand); a PII-free report of counts."""
    report: dict[str, Any] = {"dryRun": dry_run, "brands": len(brand_ids), "exported": 0, "failed": 0,
                              "members": 0, "visitors": 0, "filesDeleted": 0}
    for brand_id in brand_ids:
        try:
            counts = export_brand(store=store, blobs=blobs, brand_id=brand_id, now=now, dry_run=dry_run)
        except Exception as exc:
            report["failed"] += 1
            log.error("warehouse export of brand %s failed (%s)", brand_id, type(exc).__name__)
            report["filesDeleted"] += _drop_stale(blobs, brand_id, now.date() - MAX_STALE_SNAPSHOT, dry_run)
            continue
        report["exported"] += 1
        report["members"] += counts["members"]
        report["visitors"] += counts["visitors"]
        report["filesDeleted"] += counts["filesDeleted"]
    report["filesDeleted"] += drop_orphan_brands(blobs=blobs, brand_ids=set(brand_ids), dry_run=dry_run)
    log.info("warehouse export: %d brands, %d failed, %d members, %d visitors%s", report["brands"],
             report["failed"], report["members"], report["visitors"], " (dry run)" if dry_run else "")
    return report

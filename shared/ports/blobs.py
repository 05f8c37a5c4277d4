"""The blob store port: UGC (photos), personal-data exports, the warehouse, the journal, catalog uploads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from shared.errors import NotFound

CONTAINER_UGC = "ugc"
CONTAINER_EXPORTS = "exports"
CONTAINER_WAREHOUSE = "warehouse"  # the daily anonymised snapshot (shared/warehouse/export.py)
# Append-only (write once, then immutable in production): the erasure journal, kept apart from the
# database so a restored backup of the database never takes it back (shared/gdpr/journal.py).
CONTAINER_JOURNAL = "erasure-journal"
# Private: JSON Lines catalog files of brand platforms until the queue has processed them
# (shared/catalog/uploads.py; infra deletes any left behind after 8 days).
CONTAINER_CATALOG_UPLOADS = "catalog-uploads"
BLOB_CONTAINERS = (CONTAINER_UGC, CONTAINER_EXPORTS, CONTAINER_WAREHOUSE, CONTAINER_JOURNAL, CONTAINER_CATALOG_UPLOADS)
# The store's snapshots (shared/backups), in the backup storage account.
CONTAINER_HOURLY = "backups-hourly"
CONTAINER_MONTHLY = "backups-monthly"
# Days each container keeps a snapshot: the guide's 40 days, and a year (366 days, so that a leap
# year is a year too). infra/modules/backup-storage.bicep declares the same immutability periods and
# lifecycle deletions; tests/infra/test_backups_infra.py holds them equal.
BACKUP_CONTAINERS: dict[str, int] = {CONTAINER_HOURLY: 40, CONTAINER_MONTHLY: 366}


class BlobNotFound(NotFound):
    """No blob at that name."""


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int
    content_type: str
    last_modified: datetime


class BlobStore(ABC):
    """Put, read, list, delete blobs, and hand out short-lived signed read URLs."""

    @abstractmethod
    def put(self, container: str, name: str, data: bytes, *, content_type: str) -> BlobInfo:
        """Write (or overwrite) a blob."""

    @abstractmethod
    def create(self, container: str, name: str, data: bytes, *, content_type: str) -> bool:
        """Write a blob only if none has this name: False when one exists (the first one stands, unchanged)."""

    @abstractmethod
    def get(self, container: str, name: str) -> bytes:
        """Read a blob; raises BlobNotFound."""

    @abstractmethod
    def info(self, container: str, name: str) -> BlobInfo:
        """Size, type and date of a blob; raises BlobNotFound."""

    @abstractmethod
    def delete(self, container: str, name: str) -> bool:
        """Delete a blob; False when there was none (deleting twice is not an error)."""

    @abstractmethod
    def list(self, container: str, *, prefix: str = "") -> list[BlobInfo]:
        """Blobs whose name starts with `prefix`."""

    @abstractmethod
    def signed_url(self, container: str, name: str, *, expires_in: timedelta) -> str:
        """A URL that reads this one blob until it expires, without other credentials."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the blob store cannot be reached."""


@runtime_checkable
class SignedFiles(Protocol):
    """A blob store whose signed links point back at this API (the local folder store): the files
    route serves them. Blob Storage's links point at Azure itself and it has no such method."""

    def open_signed(self, container: str, name: str, expires: str | int, sig: str) -> tuple[bytes, str]:
        """The blob a signed link names, with its content type; NotFound for a bad, expired or unknown link."""
        ...

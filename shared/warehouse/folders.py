"""The warehouse's folders: one per export run, the newest complete one is the snapshot, the rest goes.

    <brand>/<YYYY-MM-DD>/<run>/<table>.jsonl
    <brand>/<YYYY-MM-DD>/<run>/manifest.json     written last: it lists every file and its rows

A run never writes into another run's folder, so whatever stops it (a crash, a failure, a second
run at the same moment) the newest complete folder (its manifest there, every file it lists
there) is a whole snapshot, and a loader reads that one (`current_snapshot`). `prune` deletes every
other folder, each manifest first so a folder half deleted never passes for a snapshot; the only
folders it spares are later runs of the same day still writing theirs, which prune in their turn.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from typing import Any

from shared.ports.blobs import CONTAINER_WAREHOUSE, BlobNotFound, BlobStore

MANIFEST = "manifest.json"


def new_folder(brand_id: str, now: datetime) -> str:
    """A new run's folder: its day, then its time and a random part, so runs sort by start and never share one."""
    return f"{brand_id}/{now.date().isoformat()}/{now.strftime('%H%M%S%f')}-{secrets.token_hex(3)}/"


def _folder_of(name: str) -> str:
    return name.rsplit("/", 1)[0] + "/"


def day_of_folder(folder: str) -> date | None:
    """The day a folder was written (None for a name that is not a snapshot folder)."""
    parts = folder.split("/")
    try:
        return date.fromisoformat(parts[1]) if len(parts) >= 3 else None
    except ValueError:
        return None


def _folders(blobs: BlobStore, prefix: str = "") -> dict[str, set[str]]:
    """Folders under `prefix` and the names of their files."""
    folders: dict[str, set[str]] = {}
    for blob in blobs.list(CONTAINER_WAREHOUSE, prefix=prefix):
        folders.setdefault(_folder_of(blob.name), set()).add(blob.name)
    return folders


def _manifest(blobs: BlobStore, folder: str) -> dict[str, Any] | None:
    try:
        manifest = json.loads(blobs.get(CONTAINER_WAREHOUSE, folder + MANIFEST))
    except (BlobNotFound, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _complete(blobs: BlobStore, folders: dict[str, set[str]]) -> dict[str, str]:
    """The folders holding a whole snapshot (a manifest, and every file it lists), with their generation time."""
    complete = {}
    for folder, names in folders.items():
        if folder + MANIFEST not in names or (manifest := _manifest(blobs, folder)) is None:
            continue
        if {folder + name for name in manifest.get("files") or {}} <= names:
            complete[folder] = str(manifest.get("generatedAt", ""))
    return complete


def _newest(complete: dict[str, str]) -> str | None:
    return max(complete, key=lambda folder: (complete[folder], folder), default=None)


def current_snapshot(*, blobs: BlobStore, brand_id: str) -> str | None:
    """The folder a loader reads: the newest complete one (None when the brand has no snapshot)."""
    return _newest(_complete(blobs, _folders(blobs, f"{brand_id}/")))


def _delete(blobs: BlobStore, folders: dict[str, set[str]], dry_run: bool) -> int:
    """Delete whole folders, each manifest first; the number of files (to be) deleted."""
    count = 0
    for folder, names in folders.items():
        for name in sorted(names, key=lambda name: (name != folder + MANIFEST, name)):
            if not dry_run:
                blobs.delete(CONTAINER_WAREHOUSE, name)
            count += 1
    return count


def prune(*, blobs: BlobStore, brand_id: str, mine: str, written_at: str | None, oldest_kept: date,
          dry_run: bool = False) -> int:
    """Delete the brand's folders but the newest complete one and later runs of the day still writing.

    `mine` is the calling run's folder, `written_at` its manifest's time when it wrote it (or, in a
    dry run, would have); the newest complete folder is kept only if written on `oldest_kept` or later.
    """
    folders = _folders(blobs, f"{brand_id}/")
    complete = _complete(blobs, folders)
    if written_at is not None and dry_run:
        complete[mine] = written_at
    newest = _newest(complete)
    if newest is not None and (day_of_folder(newest) or date.min) < oldest_kept:
        newest = None

    def spared(folder: str) -> bool:
        # A run that started after this one, the same day, may still be writing: it prunes in its turn.
        still_writing = folder not in complete and folder > mine and day_of_folder(folder) == day_of_folder(mine)
        return folder == newest or still_writing

    return _delete(blobs, {folder: names for folder, names in folders.items() if not spared(folder)}, dry_run)


def drop_orphan_brands(*, blobs: BlobStore, brand_ids: set[str], dry_run: bool = False) -> int:
    """Delete the warehouse files of brands that no longer exist; the number of files."""
    doomed = {folder: names for folder, names in _folders(blobs).items() if folder.split("/", 1)[0] not in brand_ids}
    return _delete(blobs, doomed, dry_run)

"""The embedded blob store: a local folder, with HMAC-signed read URLs served by the API."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from shared.adapters.local_files import write_atomic, write_once
from shared.clock import Clock, isoformat, parse_instant
from shared.errors import Conflict, InvalidInput, TransientError
from shared.macs import mac_matches
from shared.ports.blobs import BlobInfo, BlobNotFound, BlobStore

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# The same rule as Azure container names, so a name valid here is valid in production.
_CONTAINER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_MAX_NAME_LENGTH = 1024  # Azure's limit for blob names
_SIDECAR_SUFFIX = ".json"


def _check_container(container: str) -> None:
    if not _CONTAINER_RE.match(container):
        raise InvalidInput("invalid blob container name", field="container")


def _check_name(name: str) -> None:
    """Refuse anything that could step out of the container folder or clash with our own files."""
    if not name or len(name) > _MAX_NAME_LENGTH:
        raise InvalidInput("invalid blob name", field="name")
    if "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise InvalidInput("invalid blob name", field="name")
    for segment in name.split("/"):
        # "." and ".." would traverse; any leading dot is reserved for sidecars and temp files.
        if not segment or segment.startswith(".") or any(ord(ch) < 32 for ch in segment):
            raise InvalidInput("invalid blob name", field="name")


class FolderBlobStore(BlobStore):
    """Blobs as files under `root/<container>/<name>`, content type in a hidden sidecar JSON."""

    def __init__(self, root: Path, *, clock: Clock, base_url: str, signing_key: str) -> None:
        if not signing_key:
            raise ValueError("FolderBlobStore needs a signing key for its signed URLs")
        self._root = Path(root).resolve()
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._key = signing_key.encode()

    # -- paths ---------------------------------------------------------------------------------

    def _path(self, container: str, name: str) -> Path:
        _check_container(container)
        _check_name(name)
        base = self._root / container
        path = base / name
        # Defence in depth: the checks above should make this impossible.
        if not path.resolve().is_relative_to(base.resolve()):
            raise InvalidInput("invalid blob name", field="name")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f".{path.name}{_SIDECAR_SUFFIX}")

    def _read_info(self, path: Path, name: str) -> BlobInfo:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BlobNotFound() from None
        meta: dict = {}
        with contextlib.suppress(FileNotFoundError, ValueError):
            meta = json.loads(self._sidecar(path).read_text("utf-8"))
        last_modified = parse_instant(meta["lastModified"]) if "lastModified" in meta else self._clock.now()
        return BlobInfo(
            name=name,
            size=size,
            content_type=meta.get("contentType", DEFAULT_CONTENT_TYPE),
            last_modified=last_modified,
        )

    # -- port ----------------------------------------------------------------------------------

    def put(self, container: str, name: str, data: bytes, *, content_type: str) -> BlobInfo:
        """Write (or overwrite) a blob atomically."""
        path = self._path(container, name)
        now = self._clock.now()
        meta = {"contentType": content_type or DEFAULT_CONTENT_TYPE, "lastModified": isoformat(now)}
        try:
            if path.is_dir():
                raise IsADirectoryError(path)
            # Sidecar first: if a crash splits the two writes, the data still reads with a sane type.
            write_atomic(self._sidecar(path), json.dumps(meta).encode())
            write_atomic(path, data)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            # Blob Storage allows both "a" and "a/b"; a folder cannot, so say so plainly.
            raise Conflict("a blob name cannot also be a folder of blobs in the folder store") from None
        return BlobInfo(name=name, size=len(data), content_type=meta["contentType"], last_modified=now)

    def create(self, container: str, name: str, data: bytes, *, content_type: str) -> bool:
        """Write a blob only if none has this name (whole or not at all); False when one exists."""
        path = self._path(container, name)
        if path.is_dir():
            raise Conflict("a blob name cannot also be a folder of blobs in the folder store")
        if not write_once(path, data):
            return False
        # The sidecar after the data: the loser of a race never rewrites the winner's date.
        meta = {"contentType": content_type or DEFAULT_CONTENT_TYPE, "lastModified": isoformat(self._clock.now())}
        write_atomic(self._sidecar(path), json.dumps(meta).encode())
        return True

    def get(self, container: str, name: str) -> bytes:
        """Read a blob; raises BlobNotFound."""
        path = self._path(container, name)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFound() from None

    def info(self, container: str, name: str) -> BlobInfo:
        """Size, type and date of a blob; raises BlobNotFound."""
        path = self._path(container, name)
        if not path.is_file():
            raise BlobNotFound()
        return self._read_info(path, name)

    def delete(self, container: str, name: str) -> bool:
        """Delete a blob and its sidecar; False when there was none."""
        path = self._path(container, name)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError):
            return False
        self._sidecar(path).unlink(missing_ok=True)
        return True

    def list(self, container: str, *, prefix: str = "") -> list[BlobInfo]:
        """Blobs whose name starts with `prefix`, in name order (as Blob Storage lists them)."""
        _check_container(container)
        if "\\" in prefix or ".." in prefix.split("/") or prefix.startswith("/"):
            raise InvalidInput("invalid blob prefix", field="prefix")
        base = self._root / container
        # Walk only the folder the prefix pins down, not the whole container.
        start = base.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else base
        found: list[BlobInfo] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                if filename.startswith("."):
                    continue
                path = Path(dirpath) / filename
                name = path.relative_to(base).as_posix()
                if name.startswith(prefix):
                    with contextlib.suppress(BlobNotFound):  # deleted while we walked
                        found.append(self._read_info(path, name))
        return sorted(found, key=lambda info: info.name)

    def signed_url(self, container: str, name: str, *, expires_in: timedelta) -> str:
        """A URL to the files route that reads this one blob until it expires."""
        self._path(container, name)
        expires = int((self._clock.now() + expires_in).timestamp())
        query = urlencode({"expires": expires, "sig": self._signature(container, name, expires)})
        return f"{self._base_url}/api/v1/files/{container}/{quote(name, safe='/')}?{query}"

    def ping(self) -> None:
        """Raise if the folder cannot be written."""
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            write_atomic(self._root / ".ping", b"ok")
        except OSError as exc:
            raise TransientError("blob folder is not writable") from exc

    # -- signed URLs ---------------------------------------------------------------------------

    def _signature(self, container: str, name: str, expires: int) -> str:
        message = f"{container}\n{name}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def open_signed(self, container: str, name: str, expires: str | int, sig: str) -> tuple[bytes, str]:
        """Bytes and content type behind a signed URL; any bad, expired or missing link is BlobNotFound."""
        # Every refusal is the same 404, so a caller cannot tell a bad link from a missing blob.
        text = str(expires)
        # Only the digits signed_url wrote: int() alone would also read " 12", "12\xa0" or "١٢".
        if not (text.isascii() and text.isdigit()):
            raise BlobNotFound()
        expires_at = int(text)
        expected = self._signature(container, name, expires_at)
        if not mac_matches(str(sig), expected):
            raise BlobNotFound()
        if self._clock.now().timestamp() >= expires_at:
            raise BlobNotFound()
        try:
            path = self._path(container, name)
        except InvalidInput:
            raise BlobNotFound() from None
        data = self.get(container, name)
        return data, self._read_info(path, name).content_type

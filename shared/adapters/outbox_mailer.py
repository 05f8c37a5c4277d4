"""The embedded mailer: every email lands as one JSON file in an outbox folder on disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from dataclasses import asdict
from pathlib import Path

from shared.adapters.local_files import write_atomic
from shared.clock import Clock, isoformat
from shared.errors import NotFound
from shared.ports.mailer import Mailer, RenderedEmail, SendResult

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Markers map a message id to its file; the dot keeps them apart from brand folders.
_BY_ID = ".by-message-id"


def _safe(part: str) -> str:
    """A file-name-safe form of an id (the true id stays inside the JSON)."""
    cleaned = _UNSAFE.sub("_", part).lstrip(".") or "_"
    return cleaned[:120]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


class OutboxMailer(Mailer):
    """Writes `root/<brand_id>/<sentAt>-<message_id>.json`, once per message id."""

    def __init__(self, root: Path, *, clock: Clock) -> None:
        self._root = Path(root)
        self._clock = clock

    def send(self, emails: list[RenderedEmail]) -> list[SendResult]:
        """Write each email to the outbox; an id already there is accepted again, not rewritten."""
        return [self._send_one(email) for email in emails]

    def _marker(self, message_id: str) -> Path:
        return self._root / _BY_ID / hashlib.sha256(message_id.encode()).hexdigest()

    def _send_one(self, email: RenderedEmail) -> SendResult:
        marker = self._marker(email.message_id)
        if marker.exists():
            return SendResult(message_id=email.message_id, provider_id=marker.read_text("utf-8"), accepted=True)
        now = self._clock.now()
        stamp = now.strftime("%Y%m%dT%H%M%S%fZ")  # sorts as time, safe in every file system
        relative = f"{_safe(email.brand_id)}/{stamp}-{_safe(email.message_id)}.json"
        document = {_camel(key): value for key, value in asdict(email).items()}
        document["sentAt"] = isoformat(now)
        document["outboxFile"] = relative
        path = self._root / relative
        write_atomic(path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        # The marker is created exclusively: of two concurrent sends of one id, one file survives.
        marker.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            path.unlink(missing_ok=True)
            return SendResult(message_id=email.message_id, provider_id=marker.read_text("utf-8"), accepted=True)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(relative)
        logger.info("email written to outbox", extra={"message_id": email.message_id})
        return SendResult(message_id=email.message_id, provider_id=relative, accepted=True)

    def list(self, brand_id: str | None = None, limit: int = 100) -> list[dict]:
        """The newest emails first, of one brand or of all (dev-only outbox listing)."""
        if brand_id is not None:
            folders = [self._root / _safe(brand_id)]
        elif self._root.is_dir():
            folders = [p for p in self._root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        else:
            folders = []
        files: list[tuple[str, int, Path]] = []
        for folder in folders:
            if folder.is_dir():
                for path in folder.glob("*.json"):
                    with contextlib.suppress(FileNotFoundError):
                        # Same sentAt (a clock standing still): the later write comes first.
                        files.append((path.name.split("-", 1)[0], path.stat().st_mtime_ns, path))
        files.sort(key=lambda entry: (entry[0], entry[1], entry[2].name), reverse=True)
        documents = []
        for _, _, path in files[: max(limit, 0)]:
            with contextlib.suppress(FileNotFoundError):
                document = json.loads(path.read_text("utf-8"))
                if brand_id is None or document.get("brandId") == brand_id:
                    documents.append(document)
        return documents

    def get(self, message_id: str) -> dict:
        """One email of the outbox by its message id; raises NotFound."""
        try:
            relative = self._marker(message_id).read_text("utf-8")
            return json.loads((self._root / relative).read_text("utf-8"))
        except FileNotFoundError:
            raise NotFound() from None



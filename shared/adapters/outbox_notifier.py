"""The embedded notifier: every push lands as one JSON file in a push outbox folder on disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from pathlib import Path

from shared.adapters.local_files import write_atomic
from shared.clock import Clock, isoformat
from shared.ports.notifier import Notifier, PushMessage, PushOutcome, PushTarget

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Endpoints a test (or a developer) marks as dead: the outbox answers GONE for them, as a push service would.
GONE_MARKER = "/gone/"


def _safe(part: str) -> str:
    return (_UNSAFE.sub("_", part).lstrip(".") or "_")[:120]


class OutboxNotifier(Notifier):
    """Writes `root/<brand_id>/<sentAt>-<hash of message id and subscription>.json`, once per pair."""

    def __init__(self, root: Path, *, clock: Clock) -> None:
        self._root = Path(root)
        self._clock = clock

    def send(self, target: PushTarget, message: PushMessage) -> PushOutcome:
        if GONE_MARKER in target.endpoint:
            return PushOutcome.GONE
        key = hashlib.sha256(f"{message.message_id}|{target.subscription_id}".encode()).hexdigest()[:32]
        folder = self._root / _safe(message.brand_id)
        if folder.is_dir() and any(folder.glob(f"*-{key}.json")):
            return PushOutcome.DELIVERED
        now = self._clock.now()
        relative = f"{_safe(message.brand_id)}/{now.strftime('%Y%m%dT%H%M%S%fZ')}-{key}.json"
        document = {
            "messageId": message.message_id, "brandId": message.brand_id, "memberId": message.member_id,
            "subscriptionId": target.subscription_id, "kind": message.kind, "urgency": message.urgency,
            "payload": message.payload(), "sentAt": isoformat(now), "outboxFile": relative,
        }
        write_atomic(self._root / relative, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        logger.info("push written to outbox", extra={"message_id": message.message_id,
                                                     "subscription_id": target.subscription_id})
        return PushOutcome.DELIVERED

    def list(self, brand_id: str | None = None, limit: int = 100) -> list[dict]:
        """The newest pushes first, of one brand or of all (dev-only listing)."""
        if brand_id is not None:
            folders = [self._root / _safe(brand_id)]
        elif self._root.is_dir():
            folders = [p for p in self._root.iterdir() if p.is_dir()]
        else:
            folders = []
        files = [(path.name, path) for folder in folders if folder.is_dir() for path in folder.glob("*.json")]
        files.sort(reverse=True)
        documents = []
        for _, path in files[: max(limit, 0)]:
            with contextlib.suppress(FileNotFoundError):
                documents.append(json.loads(path.read_text("utf-8")))
        return documents

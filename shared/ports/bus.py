"""The message bus port: named queues with at-least-once delivery.

Semantics every adapter keeps (the local SQLite queue and Service Bus alike):
- `send` with a `message_id`: a second send of the same id within the duplicate-detection
  window is dropped (Service Bus duplicate detection).
- `scheduled_for`: the message is not delivered before that instant.
- A delivered message is either completed (gone), abandoned (delivered again, its
  `delivery_count` one higher) or dead-lettered; after `max_delivery_count` deliveries it is
  dead-lettered by the bus itself.
Handlers (`functions/queues/`, `shared.<feature>.handlers`) must therefore be idempotent.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared import json_input
from shared.errors import TransientError
from shared.json_input import MalformedJson

QUEUE_EMAILS = "emails"
QUEUE_TRACKING_EVENTS = "tracking-events"
QUEUE_PROVIDER_EVENTS = "provider-events"  # email-provider events (shared/crm/provider_events.py)
# Domain events for their out-of-process handlers (shared/events/dispatcher.py).
QUEUE_DOMAIN_EVENTS = "domain-events"
# Catalog files uploaded by brand platforms, processed in chunks (shared/catalog/uploads.py).
QUEUE_CATALOG_UPLOADS = "catalog-uploads"
# Member push notifications, one message per (member, notification) (shared/notifications/service.py).
QUEUE_NOTIFICATIONS = "notifications"
QUEUES = (QUEUE_EMAILS, QUEUE_TRACKING_EVENTS, QUEUE_PROVIDER_EVENTS, QUEUE_DOMAIN_EVENTS, QUEUE_CATALOG_UPLOADS,
          QUEUE_NOTIFICATIONS)
CONTENT_TYPE_JSON = "application/json"


def encode_body(body: dict[str, Any]) -> str:
    """The one wire form of a message body: compact JSON (the same on every adapter)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def decode_body(data: bytes | str) -> dict[str, Any]:
    """Parse a message body; raises ValueError unless it is a JSON object (a malformed message)."""
    try:
        body = json_input.parse(data)
    except MalformedJson as exc:
        raise ValueError("message body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValueError("message body is not a JSON object")
    return body


@dataclass
class OutgoingMessage:
    """A message to send: a JSON body and an id that makes sends idempotent."""

    body: dict[str, Any]
    message_id: str
    scheduled_for: datetime | None = None
    subject: str | None = None


@dataclass
class ReceivedMessage:
    """A delivered message, as a queue handler sees it."""

    body: dict[str, Any]
    message_id: str
    delivery_count: int
    enqueued_at: datetime | None = None
    subject: str | None = None
    lock_token: Any = field(default=None, repr=False)
    # Set only on messages read from the dead-letter queue.
    dead_letter_reason: str | None = None


class MessageLockLost(TransientError):
    """The lock expired (or the message was settled) before complete / abandon / dead-letter.

    The message will be (or was) delivered again, so the handler's work is not lost: it runs
    again, idempotently.
    """

    title = "The message lock was lost"


class MessageBus(ABC):
    """Send side (services) and receive side (the local worker)."""

    @abstractmethod
    def send(self, queue: str, messages: list[OutgoingMessage]) -> None:
        """Enqueue messages; a message id already seen within the window is dropped."""

    @abstractmethod
    def receive(self, queue: str, *, max_messages: int = 32) -> list[ReceivedMessage]:
        """Lock and return messages that are due (local worker and tests)."""

    @abstractmethod
    def complete(self, queue: str, message: ReceivedMessage) -> None:
        """The handler succeeded: remove the message; raises MessageLockLost when the lock expired."""

    @abstractmethod
    def abandon(self, queue: str, message: ReceivedMessage) -> None:
        """The handler failed transiently: deliver again (or dead-letter past the max count)."""

    @abstractmethod
    def dead_letter(self, queue: str, message: ReceivedMessage, *, reason: str) -> None:
        """The message can never succeed: move it to the dead-letter queue."""

    @abstractmethod
    def dead_letters(self, queue: str) -> list[ReceivedMessage]:
        """Messages in the dead-letter queue (inspection, tests)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the bus cannot be reached (health check)."""

    def close(self) -> None:
        """Release connections."""

"""The notifier port: one Web Push message to one device subscription (disk outbox locally, Web Push in production).

`send` answers DELIVERED (the push service accepted it) or GONE (404/410: the subscription is dead and
must be deleted); any failure worth retrying raises `TransientError`, so the queue message is redelivered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Urgency = Literal["very-low", "low", "normal", "high"]


class PushOutcome(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"


@dataclass(frozen=True)
class PushTarget:
    """A browser's push subscription: the push service's endpoint and the device's keys."""

    subscription_id: str
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class PushMessage:
    """What the device shows: no message text, no visitor's personal data (docs/notifications.md)."""

    message_id: str
    brand_id: str
    member_id: str
    kind: str
    title: str
    body: str
    url: str
    tag: str
    urgency: Urgency = "normal"

    def payload(self) -> dict[str, str]:
        """The JSON the App's service worker receives."""
        return {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag, "kind": self.kind}


class Notifier(ABC):
    """Sends push messages, one device at a time."""

    @abstractmethod
    def send(self, target: PushTarget, message: PushMessage) -> PushOutcome:
        """Send one push; DELIVERED or GONE, TransientError when it may succeed later."""

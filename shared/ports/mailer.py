"""The mailer port: sends rendered emails (disk outbox locally, Mailjet in production)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InlineImage:
    """An image shown in the HTML body by `cid:<content_id>` (a store voucher's QR code)."""

    content_id: str
    content_type: str
    filename: str
    base64_content: str


@dataclass(frozen=True)
class RenderedEmail:
    """A fully rendered email; `message_id` is the idempotency key carried to the provider."""

    message_id: str
    brand_id: str
    to_email: str
    to_name: str | None
    from_email: str
    from_name: str
    subject: str
    text: str
    html: str
    template: str
    locale: str
    headers: dict[str, str] = field(default_factory=dict)
    # Echoed by the provider on every event webhook (Mailjet `EventPayload` → `Payload`).
    event_payload: str | None = None
    inline_images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class SendResult:
    """What the provider said of one email."""

    message_id: str
    provider_id: str | None
    accepted: bool
    error: str | None = None
    retryable: bool = False


class Mailer(ABC):
    """Sends batches of rendered emails."""

    @abstractmethod
    def send(self, emails: list[RenderedEmail]) -> list[SendResult]:
        """Send emails, one result per email in the same order."""

"""The email queue message and the email record (the log that makes sends idempotent)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.emails.address import EmailAddress

EMAILS_CONTAINER = "emails"

EmailStatus = Literal["sending", "sent", "failed", "suppressed"]


class InlineImageRequested(BaseModel):
    """An image the HTML body shows by `cid:<contentId>`; small (a QR code), carried in the message."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    content_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    content_type: Literal["image/png"]
    filename: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
    # Base64 of at most ~48 KB: a queue message stays far below the Service Bus limit.
    base64_content: str = Field(min_length=4, max_length=65_536, pattern=r"^[A-Za-z0-9+/]+={0,2}$")


class EmailRequested(BaseModel):
    """The `emails` queue message: render `template` in `locale` with `data` and send it to one recipient."""

    # camelCase on the wire like every document; unknown fields refused (a malformed message).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    version: Literal[1] = 1
    brand_id: str = Field(min_length=1)
    template: str = Field(min_length=1)
    locale: str = Field(min_length=2)
    to_email: EmailAddress
    to_name: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    # Optional extras (campaigns): mail headers such as List-Unsubscribe, the provider event
    # payload, and the contact the email goes to (written on the email record for event matching).
    headers: dict[str, str] = Field(default_factory=dict)
    event_payload: str | None = Field(None, max_length=2000)
    contact_id: str | None = None
    inline_images: tuple[InlineImageRequested, ...] = Field((), max_length=2)

    def to_body(self) -> dict[str, Any]:
        """The JSON body put on the queue (optional extras only when set)."""
        body = self.model_dump(mode="json", by_alias=True)
        for key, empty in (("headers", {}), ("eventPayload", None), ("contactId", None), ("inlineImages", [])):
            if body.get(key) == empty:
                body.pop(key)
        return body

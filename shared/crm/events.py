"""The events the CRM raises (docs/events.md)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events.model import DomainEvent


class OrderContactLinked(DomainEvent):
    """The contact an order made or matched (`contact_id`), or why it made none (`refused`, an error code)."""

    name: ClassVar[str] = "OrderContactLinked"

    order_id: str = Field(alias="orderId")
    contact_id: str | None = Field(None, alias="contactId")
    refused: str | None = None

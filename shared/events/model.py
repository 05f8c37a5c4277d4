"""The shape every domain event has: an id, the brand it happened in, when.

An event is raised by a feature's service after the write it records (its `events.py` declares
them). Its id is derived from what happened, not drawn at random: the retry of a call that
crashed after its write raises the same event again with the same id, so a handler that already
ran for it, in process or through the queue, recognises it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

# Fixed namespace of the ids derived below (uuid5): changing it would make every id new.
_NAMESPACE = uuid.UUID("6f1d3c4e-9a1b-4e7a-8c5d-2b7e0f4a9c31")


def event_id(kind: str, *parts: str) -> str:
    """The id of the event `kind` that `parts` name (an order id and its change, a tracking event id)."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join((kind, *parts))).hex


class DomainEvent(BaseModel):
    """Something that happened, told to whoever subscribed in the composition root."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")
    # The name in the catalogue and on the queue; each event class sets its own.
    name: ClassVar[str] = ""

    id: str = Field(min_length=1, max_length=64)
    brand_id: str = Field(alias="brandId", min_length=1)
    occurred_at: datetime = Field(alias="occurredAt")


class Publisher(Protocol):
    """What a service raises its events through (the composition root's dispatcher)."""

    def publish(self, *events: DomainEvent) -> None:
        """Run the in-process handlers of each event, then queue it for the out-of-process ones."""
        ...

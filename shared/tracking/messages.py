"""The messages of the `tracking-events` queue: what the redirect and the site endpoint enqueue.

Producers only enqueue (the redirect does no other write); the queue function
(`shared.tracking.aggregator`) applies them. The message id is the event id, so the bus's
duplicate detection and the consumer's own record both see a re-sent event as the same one.
Nothing personal travels: hashed IP and user agent (brand-keyed), a visitor key that is itself
a keyed hash (of the brand's customer ID, or of a temporary id the site's tag generated), ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.ports.bus import OutgoingMessage
from shared.tracking.models import Source, TargetKind

_HASH = r"^[0-9a-f]{16,64}$"
_ID = r"^[A-Za-z0-9_.:|-]{1,128}$"


class _Event(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    event_id: str = Field(alias="eventId", pattern=_ID)
    brand_id: str = Field(alias="brandId", min_length=1, max_length=40)
    at: datetime
    internal: bool = False
    ip_hash: str | None = Field(None, alias="ipHash", pattern=_HASH)


class VisitEvent(_Event):
    """A click on a share link, as the redirect saw it (bots never get here)."""

    type: Literal["visit"] = "visit"
    code: str = Field(min_length=1, max_length=32)
    link_id: str = Field(alias="linkId", pattern=_ID)
    member_id: str = Field(alias="memberId", pattern=_ID)
    source: Source
    target_kind: TargetKind = Field(alias="targetKind")
    ua_hash: str | None = Field(None, alias="uaHash", pattern=_HASH)


class PageViewEvent(_Event):
    """A page of the brand's site seen by a visitor who arrived through a member's link."""

    type: Literal["page_view"] = "page_view"
    reference: str | None = Field(None, max_length=120)  # the signed attribution reference, if any
    visitor_key: str | None = Field(None, alias="visitorKey", pattern=_HASH)
    customer: bool = False  # the visitor key is of the brand's customer ID (a signed-in client)
    path: str | None = Field(None, max_length=500)  # path only: no query string, no fragment
    product_id: str | None = Field(None, alias="productId", min_length=1, max_length=120)  # a product's page


class ProductPickEvent(_Event):
    """A product picked on the brand's site (by a member importing it, or by a referred visitor)."""

    type: Literal["product_pick"] = "product_pick"
    reference: str | None = Field(None, max_length=120)
    visitor_key: str | None = Field(None, alias="visitorKey", pattern=_HASH)
    customer: bool = False
    member_id: str | None = Field(None, alias="memberId", pattern=_ID)
    product_id: str = Field(alias="productId", min_length=1, max_length=120)


TrackingEvent = Annotated[VisitEvent | PageViewEvent | ProductPickEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[TrackingEvent] = TypeAdapter(TrackingEvent)


def to_message(event: VisitEvent | PageViewEvent | ProductPickEvent) -> OutgoingMessage:
    """The queue message of an event: its JSON body, identified by the event id."""
    return OutgoingMessage(body=event.model_dump(mode="json", by_alias=True, exclude_none=True),
                           message_id=f"{event.type}:{event.event_id}", subject=event.type)


def parse(body: dict) -> VisitEvent | PageViewEvent | ProductPickEvent:
    """The event a message carries; raises pydantic's ValidationError (a malformed message)."""
    return _ADAPTER.validate_python(body)

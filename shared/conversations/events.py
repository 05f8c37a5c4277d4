"""The events conversations raise (docs/events.md): ids from what happened, so a retry raises the same."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.events.model import DomainEvent, event_id


class WaitingRequestJoined(DomainEvent):
    """A visitor joined the waiting list (the available members are told)."""

    name: ClassVar[str] = "WaitingRequestJoined"

    request_id: str = Field(alias="requestId")


class WaitingRequestLeft(DomainEvent):
    """A request left the waiting list: picked up by a member, or cancelled by its visitor."""

    name: ClassVar[str] = "WaitingRequestLeft"

    request_id: str = Field(alias="requestId")
    visitor_id: str = Field(alias="visitorId")
    state: str
    conversation_id: str | None = Field(None, alias="conversationId")


class MessagePosted(DomainEvent):
    """A message was written and counted in its conversation (both parties' lists moved)."""

    name: ClassVar[str] = "MessagePosted"

    conversation_id: str = Field(alias="conversationId")
    message_id: str = Field(alias="messageId")
    seq: str
    # The two parties as "<kind>:<id>" (no message text: events travel and are logged by id).
    author: str
    recipient: str


def joined(brand_id: str, request_id: str, *, at: datetime) -> WaitingRequestJoined:
    return WaitingRequestJoined(id=event_id(WaitingRequestJoined.name, brand_id, request_id), brand_id=brand_id,
                                occurred_at=at, request_id=request_id)


def left(brand_id: str, request: dict, *, at: datetime) -> WaitingRequestLeft:
    return WaitingRequestLeft(id=event_id(WaitingRequestLeft.name, brand_id, request["id"], request["state"]),
                              brand_id=brand_id, occurred_at=at, request_id=request["id"],
                              visitor_id=request["visitorId"], state=request["state"],
                              conversation_id=request.get("conversationId"))


def posted(brand_id: str, message: dict, *, recipient: str) -> MessagePosted:
    author = f"{message['author']['kind']}:{message['author']['id']}"
    return MessagePosted(id=event_id(MessagePosted.name, brand_id, message["id"]), brand_id=brand_id,
                         occurred_at=message["createdAt"], conversation_id=message["conversationId"],
                         message_id=message["id"], seq=message["seq"], author=author, recipient=recipient)



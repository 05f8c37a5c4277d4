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


class ConversationStarted(DomainEvent):
    """A conversation started: a request handled (picked up, direct, hook) or a face-to-face meeting."""

    name: ClassVar[str] = "ConversationStarted"

    conversation_id: str = Field(alias="conversationId")
    kind: str
    member_id: str = Field(alias="memberId")
    started_at: datetime = Field(alias="startedAt")
    # The visitor's request (None in store: nothing was requested); handling time runs from it.
    requested_at: datetime | None = Field(None, alias="requestedAt")


class WaitingRequestAbandoned(DomainEvent):
    """Nobody handled a waiting-list request within the brand's time: it left the list, abandoned."""

    name: ClassVar[str] = "WaitingRequestAbandoned"

    request_id: str = Field(alias="requestId")
    abandoned_at: datetime = Field(alias="abandonedAt")


class MessagePosted(DomainEvent):
    """A message was written and counted in its conversation (both parties' lists moved)."""

    name: ClassVar[str] = "MessagePosted"

    conversation_id: str = Field(alias="conversationId")
    message_id: str = Field(alias="messageId")
    seq: str
    # The parties as "<kind>:<id>" (no message text: events travel and are logged by id): the author,
    # the other party (of a group: the first other member) and every other party.
    author: str
    recipient: str
    recipients: list[str] = Field(default_factory=list)
    kind: str = "text"
    # A rating's score (it feeds the member's metrics); no other content travels.
    score: int | None = None


def joined(brand_id: str, request_id: str, *, at: datetime) -> WaitingRequestJoined:
    return WaitingRequestJoined(id=event_id(WaitingRequestJoined.name, brand_id, request_id), brand_id=brand_id,
                                occurred_at=at, request_id=request_id)


def left(brand_id: str, request: dict, *, at: datetime) -> WaitingRequestLeft:
    return WaitingRequestLeft(id=event_id(WaitingRequestLeft.name, brand_id, request["id"], request["state"]),
                              brand_id=brand_id, occurred_at=at, request_id=request["id"],
                              visitor_id=request["visitorId"], state=request["state"],
                              conversation_id=request.get("conversationId"))


class ConversationRead(DomainEvent):
    """A party read a conversation up to a message: the others' clients show the read receipt."""

    name: ClassVar[str] = "ConversationRead"

    conversation_id: str = Field(alias="conversationId")
    party: str
    up_to: str = Field(alias="upTo")
    # Who else takes part ("<kind>:<id>"): they are told.
    others: list[str]


def read(brand_id: str, conversation_id: str, *, party: str, up_to: str, others: list[str],
         at: datetime) -> ConversationRead:
    return ConversationRead(id=event_id(ConversationRead.name, brand_id, conversation_id, party, up_to),
                            brand_id=brand_id, occurred_at=at, conversation_id=conversation_id, party=party,
                            up_to=up_to, others=others)


def started(brand_id: str, conversation: dict) -> ConversationStarted:
    return ConversationStarted(id=event_id(ConversationStarted.name, brand_id, conversation["id"]), brand_id=brand_id,
                               occurred_at=conversation["startedAt"], conversation_id=conversation["id"],
                               kind=conversation["kind"], member_id=conversation["memberId"],
                               started_at=conversation["startedAt"], requested_at=conversation.get("requestedAt"))


def abandoned(brand_id: str, request: dict) -> WaitingRequestAbandoned:
    return WaitingRequestAbandoned(id=event_id(WaitingRequestAbandoned.name, brand_id, request["id"]),
                                   brand_id=brand_id, occurred_at=request["abandonedAt"], request_id=request["id"],
                                   abandoned_at=request["abandonedAt"])


def posted(brand_id: str, message: dict, *, recipients: list[str]) -> MessagePosted:
    author = f"{message['author']['kind']}:{message['author']['id']}"
    return MessagePosted(id=event_id(MessagePosted.name, brand_id, message["id"]), brand_id=brand_id,
                         occurred_at=message["createdAt"], conversation_id=message["conversationId"],
                         message_id=message["id"], seq=message["seq"], author=author, recipient=recipients[0],
                         recipients=recipients,
                         kind=message.get("kind", "text"), score=message.get("score"))



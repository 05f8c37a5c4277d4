"""Conversations, shared by the App's and the widget's routes: a party's inbox, messages, read marks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from popsell.bootstrap import Container
from shared.conversations import conversations, handlers
from shared.conversations.models import Inbox, InboxEntry, MessageIn, MessagePage, MessageRead, Party
from shared.realtime import access

PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=conversations.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200, description="A message's `seq` (from a page's `cursor`)")]
Continuation = Annotated[str | None, Query(max_length=2000, description="The previous page's continuation")]


class ReadMark(BaseModel):
    """The party has read up to this message (its `seq`)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    up_to: str = Field(alias="upTo", min_length=1, max_length=200)


class Unread(BaseModel):
    unread: int


class ConversationRef(BaseModel):
    """The conversation a request started (or resumed)."""

    model_config = ConfigDict(populate_by_name=True)

    conversation_id: str = Field(alias="conversationId")


class RealtimeAccess(BaseModel):
    """Where the client connects for its pushes (a WebSocket URL with its token), until `expiresAt`."""

    model_config = ConfigDict(populate_by_name=True)

    url: str
    token: str | None = None
    expires_at: str = Field(alias="expiresAt")
    groups: list[str]


def negotiate(container: Container, brand_id: str, party: Party, *extra: str) -> RealtimeAccess:
    """A connection for the party's own group (every conversation of theirs) and the `extra` groups."""
    groups = [handlers.party_group(brand_id, conversations.party_key(party)), *extra]
    grant = access.negotiate(realtime=container.realtime, brand_id=brand_id, user_id=conversations.party_key(party),
                             groups=groups)
    return RealtimeAccess(url=grant["url"], token=grant["token"], expires_at=grant["expiresAt"], groups=groups)


def inbox(container: Container, brand_id: str, party: Party, page_size: int, continuation: str | None) -> Inbox:
    items, more = conversations.inbox(store=container.store.for_brand(brand_id), party=party, page_size=page_size,
                                      continuation=continuation)
    return Inbox(items=[InboxEntry.model_validate(item) for item in items], continuation=more)


def messages(container: Container, brand_id: str, party: Party, conversation_id: str, after: str | None,
             before: str | None, page_size: int) -> MessagePage:
    items, cursor = conversations.messages(store=container.store.for_brand(brand_id), conversation_id=conversation_id,
                                           party=party, after=after, before=before, page_size=page_size)
    return MessagePage(items=[MessageRead.model_validate(item) for item in items], cursor=cursor)


def post(container: Container, brand_id: str, party: Party, conversation_id: str, body: MessageIn) -> MessageRead:
    return MessageRead.model_validate(conversations.post(
        store=container.store.for_brand(brand_id), events=container.events, conversation_id=conversation_id,
        author=party, data=body, now=container.clock.now()))


def set_blocked(container: Container, brand_id: str, party: Party, conversation_id: str, blocked: bool) -> None:
    conversations.set_blocked(store=container.store.for_brand(brand_id), conversation_id=conversation_id, party=party,
                              blocked=blocked)


def mark_read(container: Container, brand_id: str, party: Party, conversation_id: str, body: ReadMark) -> Unread:
    return Unread(unread=conversations.mark_read(store=container.store.for_brand(brand_id),
                                                 conversation_id=conversation_id, party=party, up_to=body.up_to))

"""Conversations, shared by the App's and the widget's routes: a party's inbox, messages, read marks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from popsell.bootstrap import Container
from shared.conversations import conversations
from shared.conversations.models import Inbox, InboxEntry, MessageIn, MessagePage, MessageRead, Party

PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=conversations.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200, description="A message's `seq` (from a page's `cursor`)")]
Continuation = Annotated[str | None, Query(max_length=2000, description="The previous page's continuation")]


class ReadMark(BaseModel):
    """The party has read up to this message (its `seq`)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    up_to: str = Field(alias="upTo", min_length=1, max_length=200)


class Unread(BaseModel):
    unread: int


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
        store=container.store.for_brand(brand_id), conversation_id=conversation_id, author=party, data=body,
        now=container.clock.now()))


def mark_read(container: Container, brand_id: str, party: Party, conversation_id: str, body: ReadMark) -> Unread:
    return Unread(unread=conversations.mark_read(store=container.store.for_brand(brand_id),
                                                 conversation_id=conversation_id, party=party, up_to=body.up_to))

"""Conversations, shared by the App's and the widget's routes: a party's inbox, messages, read marks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.conversations import contents, conversations, handlers
from shared.conversations.models import Inbox, InboxEntry, MessageIn, MessagePage, MessageRead, Party
from shared.errors import InvalidInput
from shared.identity import visitors
from shared.identity.visitors import VisitorUpdate
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
    return MessagePage(items=[present(container, item) for item in items], cursor=cursor)


def post(container: Container, brand_id: str, party: Party, conversation_id: str, body: MessageIn) -> MessageRead:
    """Check the message's contents, give the visitor's account what a form answer gave, then write it."""
    store, now = container.store.for_brand(brand_id), container.clock.now()
    conversations.of_party(store=store, conversation_id=conversation_id, party=party)
    brand = brands.get(store=container.store, brand_id=brand_id)
    shop = contents.Shop(brand_id=brand_id, social_commerce=brand.social_commerce,
                         app_base_url=container.settings.app_base_url)
    built = contents.build(store=store, shop=shop, author=party, pk=conversations.message_pk(brand_id, conversation_id),
                           data=body)
    if built.personal:
        visitors.update(store=store, hasher=container.hasher(brand_id), visitor_id=party.id, now=now,
                        data=VisitorUpdate.model_validate({
                            **({"firstName": built.personal["firstName"]} if "firstName" in built.personal else {}),
                            **({"emailTmp": built.personal["email"], "emailTmpPurpose": "conversation_notification"}
                               if "email" in built.personal else {})}))
    message = conversations.post(store=store, events=container.events, conversation_id=conversation_id,
                                 author=party, data=body, now=now, parts=built.parts, unique_key=built.unique_key,
                                 attach=media_attacher(container, store, party, conversation_id, built.media_id))
    return present(container, message)


def media_attacher(container: Container, store, party: Party, conversation_id: str, media_id: str | None):
    """The claim of the message's upload, or None for a message without one."""
    if media_id is None:
        return None
    raise InvalidInput("Photos and videos are not accepted yet", errors=[{"field": "mediaId", "message": "later"}])


def present(container: Container, message: dict) -> MessageRead:
    """A message as its parties read it (a photo's or video's link signed now)."""
    return MessageRead.model_validate(message)


def set_blocked(container: Container, brand_id: str, party: Party, conversation_id: str, blocked: bool) -> None:
    conversations.set_blocked(store=container.store.for_brand(brand_id), conversation_id=conversation_id, party=party,
                              blocked=blocked)


def mark_read(container: Container, brand_id: str, party: Party, conversation_id: str, body: ReadMark) -> Unread:
    return Unread(unread=conversations.mark_read(store=container.store.for_brand(brand_id),
                                                 conversation_id=conversation_id, party=party, up_to=body.up_to))

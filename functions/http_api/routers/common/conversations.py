"""Conversations, shared by the App's and the widget's routes: a party's inbox, messages, read marks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from popsell.bootstrap import Container
from shared.brands import service as brands
from shared.conversations import contents, conversations, handlers
from shared.conversations.models import Inbox, InboxEntry, MessageIn, MessagePage, MessageRead, Party
from shared.errors import InvalidInput, NotFound
from shared.identity import visitors
from shared.identity.visitors import VisitorUpdate
from shared.media import uploads
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
    items, cursor, marks = conversations.messages(store=container.store.for_brand(brand_id),
                                                  conversation_id=conversation_id, party=party, after=after,
                                                  before=before, page_size=page_size)
    return MessagePage(items=[present(container, brand_id, item) for item in items], cursor=cursor,
                       read_marks=marks)


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
                                 attach=media_attacher(container, store, party, conversation_id, built.media_id,
                                                       body.kind))
    return present(container, brand_id, message)


def media_attacher(container: Container, store, party: Party, conversation_id: str, media_id: str | None,
                   kind: str):
    """The claim of the message's upload (its author's, of the message's kind), or None without one."""
    if media_id is None:
        return None
    found = uploads.get(store=store, media_id=media_id, party=party)  # 404 for anyone else's
    if found["kind"] != kind:  # checked before the claim: a refused message claims nothing
        raise InvalidInput(f"This upload is not a {kind}",
                           errors=[{"field": "mediaId", "message": f"a {found['kind']}, not a {kind}"}])

    def attach(message_id: str) -> dict:
        return uploads.claim(store=store, media_id=media_id, owner=party, conversation_id=conversation_id,
                             message_id=message_id, now=container.clock.now())

    return attach


def present(container: Container, brand_id: str, message: dict) -> MessageRead:
    """A message as its parties read it (a photo's or video's link signed now; none once the file is gone)."""
    media = message.get("media")
    if media:
        try:
            link = uploads.url(blobs=container.blobs, store=container.store.for_brand(brand_id),
                               media_id=media["mediaId"])
        except NotFound:
            link = None
        message = {**message, "media": {**media, "url": link}}
    return MessageRead.model_validate(message)


def set_blocked(container: Container, brand_id: str, party: Party, conversation_id: str, blocked: bool) -> None:
    conversations.set_blocked(store=container.store.for_brand(brand_id), conversation_id=conversation_id, party=party,
                              blocked=blocked)


def mark_read(container: Container, brand_id: str, party: Party, conversation_id: str, body: ReadMark) -> Unread:
    return Unread(unread=conversations.mark_read(store=container.store.for_brand(brand_id), events=container.events,
                                                 conversation_id=conversation_id, party=party, up_to=body.up_to,
                                                 now=container.clock.now()))

"""The conversational programme's data, in the glossary's words (docs/conversations.md).

- A conversation request (waiting list, direct, hook) is not a conversation: it may never become one.
- A request is handled when a member picks it up; the conversation starts then (a direct or hook
  request starts its conversation at once with the member it names; in store, face to face).
- A dialogue: both parties wrote at least one message. Conversations are endless: never closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RequestKind = Literal["waiting_list", "direct", "hook"]
RequestState = Literal["pending", "handled", "cancelled", "abandoned"]
ConversationKind = Literal["waiting_list", "direct", "hook", "in_store", "community"]
PartyKind = Literal["member", "visitor"]
MAX_TEXT = 4000


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class RequestContext(_Model):
    """Where the visitor asked from: the page, the product it shows (ids and URL only)."""

    page_url: str | None = Field(None, alias="pageUrl", max_length=2000)
    product_id: str | None = Field(None, alias="productId", max_length=50)


class WaitingListRequestIn(_Model):
    """A visitor's request for a conversation through the waiting list."""

    context: RequestContext = Field(default_factory=RequestContext)


class DirectRequestIn(WaitingListRequestIn):
    """A visitor's request for a conversation with the member they chose."""

    member_id: str = Field(alias="memberId", min_length=1, max_length=100)


class MessageIn(_Model):
    """A text message. `clientMessageId` makes a retried post land once."""

    client_message_id: str = Field(alias="clientMessageId", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Party(BaseModel):
    """One side of a conversation."""

    model_config = ConfigDict(populate_by_name=True)

    kind: PartyKind
    id: str


class WaitingRequestRead(BaseModel):
    """A conversation request as its visitor or a member sees it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    kind: RequestKind
    state: RequestState
    visitor_id: str = Field(alias="visitorId")
    context: RequestContext
    created_at: datetime = Field(alias="createdAt")
    handled_at: datetime | None = Field(None, alias="handledAt")
    handled_by: str | None = Field(None, alias="handledBy")
    cancelled_at: datetime | None = Field(None, alias="cancelledAt")
    abandoned_at: datetime | None = Field(None, alias="abandonedAt")
    conversation_id: str | None = Field(None, alias="conversationId")
    abandoned: bool = False


class QueueStatus(WaitingRequestRead):
    """The visitor's own request, with its place in the queue while it waits."""

    position: int | None = None
    estimated_wait_seconds: int | None = Field(None, alias="estimatedWaitSeconds")


class WaitingList(BaseModel):
    """The pending requests, oldest first."""

    items: list[WaitingRequestRead]
    continuation: str | None = None


class MessageRead(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    # Its place in the conversation: the cursor of `after` / `before` and of read marks.
    seq: str
    conversation_id: str = Field(alias="conversationId")
    author: Party
    kind: Literal["text"] = "text"
    text: str
    created_at: datetime = Field(alias="createdAt")


class MessagePage(BaseModel):
    """Messages after (or before) a cursor, oldest first; `cursor` continues the same direction."""

    items: list[MessageRead]
    cursor: str | None = None


class InboxEntry(BaseModel):
    """One conversation in a participant's list: its other party, last activity, unread count."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    conversation_id: str = Field(alias="conversationId")
    kind: ConversationKind
    other: Party
    last_message_at: datetime | None = Field(None, alias="lastMessageAt")
    unread: int = 0


class Inbox(BaseModel):
    items: list[InboxEntry]
    continuation: str | None = None

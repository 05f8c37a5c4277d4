"""Conversations in the App: the waiting list, picking a request up, the member's conversations and messages."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common import conversations as common
from functions.http_api.routers.common.conversations import (
    Continuation,
    ConversationRef,
    Cursor,
    PageSize,
    ReadMark,
    RealtimeAccess,
    Unread,
)
from functions.http_api.routers.common.directory import open_brand
from shared.conversations import community, handlers, requests
from shared.conversations.models import Inbox, MessageIn, MessagePage, MessageRead, Party, WaitingList

router = APIRouter(prefix="/api/v1/app/{brand_id}", tags=["app: conversations"])


def _member(member) -> Party:
    return Party(kind="member", id=member.id)


@router.get("/waiting-list", response_model=WaitingList, responses=problem_responses(401, 404, 422),
            **access("member"))
def waiting_list(brand_id: str, member: CurrentMember, container: ContainerDep, page_size: PageSize = 20,
                 continuation: Continuation = None) -> WaitingList:
    """The visitors waiting for a conversation, oldest first (abandoned requests left out)."""
    brand = open_brand(container, brand_id)
    items, more = requests.waiting(store=container.store.for_brand(brand_id), now=container.clock.now(),
                                   abandon_minutes=brand.waiting_list_abandon_minutes, page_size=page_size,
                                   continuation=continuation)
    return WaitingList(items=items, continuation=more)


@router.post("/waiting-list/{waiting_request_id}/pick-up", response_model=ConversationRef,
             responses=problem_responses(401, 403, 404, 409), **access("member"))
def pick_up(brand_id: str, waiting_request_id: str, member: CurrentMember, container: ContainerDep) -> ConversationRef:
    """Take a waiting visitor: exactly one member wins; the others get 409 `already-taken`.

    Only an available member (online or away) picks up (403 otherwise); the conversation starts now.
    """
    brand = open_brand(container, brand_id)
    conversation = requests.pick_up(store=container.store.for_brand(brand_id), events=container.events, member=member,
                                    request_id=waiting_request_id, now=container.clock.now(),
                                    abandon_minutes=brand.waiting_list_abandon_minutes)
    return ConversationRef(conversation_id=conversation["id"])


@router.post("/realtime/negotiate", response_model=RealtimeAccess, responses=problem_responses(401, 404),
             **access("member"))
def member_negotiate(brand_id: str, member: CurrentMember, container: ContainerDep) -> RealtimeAccess:
    """Connect for pushes: the member's own conversations and the brand's waiting list (docs/realtime.md)."""
    return common.negotiate(container, brand_id, _member(member), handlers.waiting_list_group(brand_id))


@router.get("/conversations", response_model=Inbox, responses=problem_responses(401, 404, 422), **access("member"))
def member_inbox(brand_id: str, member: CurrentMember, container: ContainerDep, page_size: PageSize = 20,
                 continuation: Continuation = None) -> Inbox:
    """The member's conversations, the latest activity first, with unread counts."""
    return common.inbox(container, brand_id, _member(member), page_size, continuation)


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage,
            responses=problem_responses(401, 404, 422), **access("member"))
def member_messages(brand_id: str, conversation_id: str, member: CurrentMember, container: ContainerDep,
                    after: Cursor = None, before: Cursor = None, page_size: PageSize = 50) -> MessagePage:
    """The latest messages (or those before a cursor), or, with `after`, the ones since (catching up)."""
    return common.messages(container, brand_id, _member(member), conversation_id, after, before, page_size)


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED,
             response_model=MessageRead, responses=problem_responses(401, 403, 404, 422), **access("member"))
def member_post(brand_id: str, conversation_id: str, body: MessageIn, member: CurrentMember,
                container: ContainerDep) -> MessageRead:
    """Write to the visitor (a retry with the same clientMessageId writes nothing more)."""
    return common.post(container, brand_id, _member(member), conversation_id, body)


@router.post("/conversations/{conversation_id}/read", response_model=Unread,
             responses=problem_responses(401, 404, 422), **access("member"))
def member_read(brand_id: str, conversation_id: str, body: ReadMark, member: CurrentMember,
                container: ContainerDep) -> Unread:
    """Mark the conversation read up to a message; the unread count left."""
    return common.mark_read(container, brand_id, _member(member), conversation_id, body)


@router.put("/conversations/{conversation_id}/block", status_code=status.HTTP_204_NO_CONTENT,
            responses=problem_responses(401, 404), **access("member"))
def member_block(brand_id: str, conversation_id: str, member: CurrentMember, container: ContainerDep) -> Response:
    """Block the other party: no more messages either way, and the conversation leaves the caller's list."""
    common.set_blocked(container, brand_id, _member(member), conversation_id, True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/conversations/{conversation_id}/block", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404), **access("member"))
def member_unblock(brand_id: str, conversation_id: str, member: CurrentMember, container: ContainerDep) -> Response:
    """Lift the caller's block: the conversation is back in their list and messages flow again."""
    common.set_blocked(container, brand_id, _member(member), conversation_id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class InStoreCode(BaseModel):
    """What the member's QR holds: the code a visitor's widget sends to start their conversation."""

    model_config = ConfigDict(populate_by_name=True)

    code: str
    expires_at: datetime = Field(alias="expiresAt")


@router.post("/conversations/in-store-code", response_model=InStoreCode, responses=problem_responses(401, 404),
             **access("member"))
def in_store_code(brand_id: str, member: CurrentMember, container: ContainerDep) -> InStoreCode:
    """A code for the member's QR (10 minutes): a visitor met in the store scans it to talk to them."""
    code, expires_at = requests.in_store_code(tokens=container.tokens, brand_id=brand_id, member=member,
                                              now=container.clock.now())
    return InStoreCode(code=code, expires_at=expires_at)


@router.post("/community/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationRef,
             responses=problem_responses(401, 404, 422), **access("member"))
def start_community(brand_id: str, body: community.CommunityConversationIn, member: CurrentMember,
                    container: ContainerDep) -> ConversationRef:
    """Talk with another member (one conversation per pair, resumed), or start a group (a title, several members).

    The messages, list, unread counts and read marks are those of every conversation. 404 for a member
    the community does not show (unknown, not active, or hidden from the community).
    """
    open_brand(container, brand_id)
    doc = community.start(store=container.store.for_brand(brand_id), creator=member.id, data=body,
                          now=container.clock.now())
    return ConversationRef(conversation_id=doc["id"])

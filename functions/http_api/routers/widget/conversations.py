"""Conversations in the widget: the visitor's waiting-list request, their conversations and messages."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.http_api.access import access
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
from functions.http_api.routers.widget.visitors import CurrentAccount
from shared.conversations import hooks, requests
from shared.conversations.models import (
    DirectRequestIn,
    Inbox,
    MessageIn,
    MessagePage,
    MessageRead,
    Party,
    QueueStatus,
    WaitingListRequestIn,
)
from shared.tracking.site_events import visitor_key

router = APIRouter(prefix="/api/v1/widget/{brand_id}/conversations", tags=["widget: conversations"])


def _visitor(account) -> Party:
    return Party(kind="visitor", id=account.id)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=QueueStatus,
             responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def join_waiting_list(brand_id: str, body: WaitingListRequestIn, account: CurrentAccount,
                      container: ContainerDep) -> QueueStatus:
    """Ask for a conversation through the waiting list (after accepting the service terms: 403 before).

    The visitor's request waiting already, if there is one; with its place in the queue and a wait estimate.
    """
    brand = open_brand(container, brand_id)
    return requests.join(store=container.store.for_brand(brand_id), events=container.events, visitor=account,
                         data=body,
                         now=container.clock.now(), abandon_minutes=brand.waiting_list_abandon_minutes)


@router.post("/direct", status_code=status.HTTP_201_CREATED, response_model=ConversationRef,
             responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def start_direct(brand_id: str, body: DirectRequestIn, account: CurrentAccount,
                 container: ContainerDep) -> ConversationRef:
    """Talk to the member the visitor chose (from the directory): the conversation starts, or resumes if
    they talked before. 404 for a member the directory does not list; 403 before the service terms."""
    open_brand(container, brand_id)
    conversation = requests.direct(store=container.store.for_brand(brand_id), events=container.events, visitor=account,
                                   member_id=body.member_id, data=body, now=container.clock.now())
    return ConversationRef(conversation_id=conversation["id"])


class HookAnswer(WaitingListRequestIn):
    """The visitor clicked the hook bubble: the invitation, and the visitor as the site tag names them."""

    hook_id: str = Field(alias="hookId", min_length=1, max_length=64)
    visitor_id: str | None = Field(None, alias="visitorId", pattern=r"^[A-Za-z0-9_-]{8,128}$")
    customer_id: str | None = Field(None, alias="customerId", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _names_the_visitor(self) -> HookAnswer:
        if self.visitor_id is None and self.customer_id is None:
            raise ValueError("visitorId or customerId is required (as in the site tag's events)")
        return self


@router.post("/hook", status_code=status.HTTP_201_CREATED, response_model=ConversationRef,
             responses=problem_responses(401, 403, 404, 409, 422), **access("visitor"))
def answer_hook(brand_id: str, body: HookAnswer, account: CurrentAccount, container: ContainerDep) -> ConversationRef:
    """Chat with the member who invited the visitor: a hook request, handled at once by that member.

    The conversation starts (or resumes, with the same member). 403 before the service terms; 404 for an
    invitation that is not this visitor's; 409 `hook-closed` once it expired or was closed.
    """
    open_brand(container, brand_id)
    conversation = hooks.accept(
        store=container.store.for_brand(brand_id), events=container.events, visitor=account,
        visitor_key=visitor_key(container.hasher(brand_id), customer_id=body.customer_id, visitor_id=body.visitor_id),
        hook_id=body.hook_id, context=body.context, now=container.clock.now())
    return ConversationRef(conversation_id=conversation["id"])


class InStoreScan(BaseModel):
    """The code of the member's QR the visitor scanned in the store."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    code: str = Field(min_length=1, max_length=2000)


@router.post("/in-store", status_code=status.HTTP_201_CREATED, response_model=ConversationRef,
             responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def start_in_store(brand_id: str, body: InStoreScan, account: CurrentAccount,
                   container: ContainerDep) -> ConversationRef:
    """The visitor scanned a member's QR in the store: their conversation starts (or resumes).

    404 for a code expired (after 10 minutes), forged or of another brand; 403 before the service terms.
    """
    open_brand(container, brand_id)
    conversation = requests.in_store(store=container.store.for_brand(brand_id), events=container.events,
                                     tokens=container.tokens, visitor=account, code=body.code,
                                     now=container.clock.now())
    return ConversationRef(conversation_id=conversation["id"])


@router.get("/requests/{waiting_request_id}", response_model=QueueStatus, responses=problem_responses(401, 404),
            **access("visitor"))
def read_request(brand_id: str, waiting_request_id: str, account: CurrentAccount,
                 container: ContainerDep) -> QueueStatus:
    """The visitor's request: waiting (its place and a wait estimate), handled (its conversation), cancelled."""
    brand = open_brand(container, brand_id)
    return requests.status(store=container.store.for_brand(brand_id), events=container.events,
                           request_id=waiting_request_id,
                           visitor_id=account.id, now=container.clock.now(),
                           abandon_minutes=brand.waiting_list_abandon_minutes)


@router.delete("/requests/{waiting_request_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404, 409), **access("visitor"))
def cancel_request(brand_id: str, waiting_request_id: str, account: CurrentAccount,
                   container: ContainerDep) -> Response:
    """Stop waiting (409 once a member has picked the request up: it is a conversation)."""
    requests.cancel(store=container.store.for_brand(brand_id), events=container.events, request_id=waiting_request_id,
                    visitor_id=account.id, now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/realtime/negotiate", response_model=RealtimeAccess, responses=problem_responses(401, 404),
             **access("visitor"))
def visitor_negotiate(brand_id: str, account: CurrentAccount, container: ContainerDep) -> RealtimeAccess:
    """Connect for pushes: the visitor's conversations and requests (docs/realtime.md)."""
    return common.negotiate(container, brand_id, _visitor(account))


@router.get("", response_model=Inbox, responses=problem_responses(401, 404, 422), **access("visitor"))
def visitor_inbox(brand_id: str, account: CurrentAccount, container: ContainerDep, page_size: PageSize = 20,
                  continuation: Continuation = None) -> Inbox:
    """The visitor's conversations, the latest activity first, with unread counts (they are endless)."""
    return common.inbox(container, brand_id, _visitor(account), page_size, continuation)


@router.get("/{conversation_id}/messages", response_model=MessagePage, responses=problem_responses(401, 404, 422),
            **access("visitor"))
def visitor_messages(brand_id: str, conversation_id: str, account: CurrentAccount, container: ContainerDep,
                     after: Cursor = None, before: Cursor = None, page_size: PageSize = 50) -> MessagePage:
    """The latest messages (or those before a cursor), or, with `after`, the ones since (catching up)."""
    return common.messages(container, brand_id, _visitor(account), conversation_id, after, before, page_size)


@router.post("/{conversation_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageRead,
             responses=problem_responses(401, 403, 404, 422), **access("visitor"))
def visitor_post(brand_id: str, conversation_id: str, body: MessageIn, account: CurrentAccount,
                 container: ContainerDep) -> MessageRead:
    """Write to the member (a retry with the same clientMessageId writes nothing more)."""
    return common.post(container, brand_id, _visitor(account), conversation_id, body)


@router.post("/{conversation_id}/read", response_model=Unread, responses=problem_responses(401, 404, 422),
             **access("visitor"))
def visitor_read(brand_id: str, conversation_id: str, body: ReadMark, account: CurrentAccount,
                 container: ContainerDep) -> Unread:
    """Mark the conversation read up to a message; the unread count left."""
    return common.mark_read(container, brand_id, _visitor(account), conversation_id, body)


@router.put("/{conversation_id}/block", status_code=status.HTTP_204_NO_CONTENT,
            responses=problem_responses(401, 404), **access("visitor"))
def visitor_block(brand_id: str, conversation_id: str, account: CurrentAccount, container: ContainerDep) -> Response:
    """Block the other party: no more messages either way, and the conversation leaves the caller's list."""
    common.set_blocked(container, brand_id, _visitor(account), conversation_id, True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{conversation_id}/block", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 404), **access("visitor"))
def visitor_unblock(brand_id: str, conversation_id: str, account: CurrentAccount, container: ContainerDep) -> Response:
    """Lift the caller's block: the conversation is back in their list and messages flow again."""
    common.set_blocked(container, brand_id, _visitor(account), conversation_id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

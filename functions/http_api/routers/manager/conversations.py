"""Conversations in the Manager: the moderation view (read a page at a time, remove a message's content).

There is no export: the messages, photos and videos are the members' and visitors' content, which
the brand may see for moderation but not take away (Data Protection Guide v4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, ManagedBrand, ManagerPrincipal
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common import conversations as common
from functions.http_api.routers.common.conversations import Continuation, Cursor
from shared.conversations import moderation
from shared.conversations.models import ConversationKind, MessagePage, Party

router = APIRouter(prefix="/api/v1/manager/brands/{brand_id}/conversations", tags=["manager: conversations"])
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=moderation.MAX_PAGE)]


class ModeratedConversation(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    kind: ConversationKind
    parties: list[Party]
    title: str | None = None
    started_at: datetime = Field(alias="startedAt")
    last_message_at: datetime | None = Field(None, alias="lastMessageAt")
    message_count: int = Field(0, alias="messageCount")
    blocked_by: list[str] = Field(default_factory=list, alias="blockedBy")


class ModeratedConversations(BaseModel):
    items: list[ModeratedConversation]
    continuation: str | None = None


@router.get("", response_model=ModeratedConversations, responses=problem_responses(401, 403, 404, 422),
            **access("manager", level="viewer"))
def moderated_conversations(brand: ManagedBrand, container: ContainerDep, page_size: PageSize = 20,
                            continuation: Continuation = None,
                            member_id: Annotated[str | None, Query(alias="memberId", max_length=100)] = None,
                            ) -> ModeratedConversations:
    """The brand's conversations with messages, the latest activity first (one member's with `memberId`)."""
    items, more = moderation.conversations_page(store=container.store.for_brand(brand.id), member_id=member_id,
                                                page_size=page_size, continuation=continuation)
    return ModeratedConversations(items=[ModeratedConversation.model_validate(item) for item in items],
                                  continuation=more)


@router.get("/{conversation_id}/messages", response_model=MessagePage, responses=problem_responses(401, 403, 404, 422),
            **access("manager", level="viewer"))
def moderated_messages(brand: ManagedBrand, conversation_id: str, container: ContainerDep, before: Cursor = None,
                       page_size: PageSize = 50) -> MessagePage:
    """A page of a conversation's messages, the latest first read (`before` pages back); never an export."""
    items, cursor = moderation.messages_page(store=container.store.for_brand(brand.id),
                                             conversation_id=conversation_id, before=before, page_size=page_size)
    return MessagePage(items=[common.present(container, brand.id, item) for item in items], cursor=cursor)


@router.delete("/{conversation_id}/messages/{chat_message_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 403, 404), **access("manager", level="editor"))
def remove_message(brand: ManagedBrand, conversation_id: str, chat_message_id: str, principal: ManagerPrincipal,
                   container: ContainerDep) -> Response:
    """Remove a message's content (moderation): its place, author and instant stay, marked removed."""
    moderation.remove(store=container.store.for_brand(brand.id), conversation_id=conversation_id,
                      message_id=chat_message_id, by=f"manager:{principal.subject}", now=container.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)

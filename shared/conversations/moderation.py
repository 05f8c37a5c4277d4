"""The Manager's moderation view of the brand's conversations: read, and remove a message's content.

The Data Protection Guide: members' and visitors' messages, photos and videos are theirs; the
Manager displays them (moderation) but the brand cannot export them. So the view pages through
conversations and messages (at most a page at a time, as the App does) and there is no export of
any kind; a removal strips the message's content (text, products, answers, media) and keeps its
place, author and instant, marked `removedAt` (the conversation's history stays readable).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import isoformat
from shared.conversations.conversations import CONVERSATIONS, MESSAGES, message_pk
from shared.errors import NotFound
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import update_document

MAX_PAGE = 50
_KEPT = ("id", "pk", "conversationId", "author", "kind", "clientMessageId", "createdAt", "seq")
_ATTEMPTS = 5


def conversations_page(*, store: BrandStore, member_id: str | None, page_size: int,
                       continuation: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The brand's conversations that have messages, the latest activity first (one member's with `member_id`)."""
    filters = [Filter("lastMessageAt", ">", "")]
    if member_id:
        filters.insert(0, Filter("memberId", "=", member_id))
    page = store.query(CONVERSATIONS, filters=filters, order_by="lastMessageAt", descending=True,
                       page_size=page_size, continuation=continuation)
    return page.items, page.continuation


def conversation(*, store: BrandStore, conversation_id: str) -> dict[str, Any]:
    doc = store.find(CONVERSATIONS, conversation_id)
    if doc is None:
        raise NotFound("Conversation not found")
    return doc


def messages_page(*, store: BrandStore, conversation_id: str, before: str | None,
                  page_size: int) -> tuple[list[dict[str, Any]], str | None]:
    """The latest messages of a conversation of the brand (or those before a cursor), oldest first."""
    conversation(store=store, conversation_id=conversation_id)
    filters = [Filter("seq", "<", before)] if before else []
    page = store.query(MESSAGES, pk=message_pk(store.brand_id, conversation_id), filters=filters, order_by="seq",
                       descending=True, page_size=page_size)
    items = list(reversed(page.items))
    return items, items[0]["seq"] if page.continuation and items else None


def remove(*, store: BrandStore, conversation_id: str, message_id: str, by: str, now: datetime) -> dict[str, Any]:
    """Strip a message's content (moderation); the message removed before, unchanged, on a second call."""
    conversation(store=store, conversation_id=conversation_id)
    pk = message_pk(store.brand_id, conversation_id)

    def stripped(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            raise NotFound("Message not found")
        if doc.get("removedAt"):
            return None
        return {**{key: doc[key] for key in _KEPT if key in doc}, "removedAt": isoformat(now), "removedBy": by}

    changed = update_document(store, MESSAGES, message_id, stripped, attempts=_ATTEMPTS, pk=pk)
    return changed[1] if changed else store.get(MESSAGES, message_id, pk=pk)

"""Outbound: a member reaches their dedicated customers in the chat.

The member's list of dedicated customers (shared/sales/dedicated.py), each with the conversation
to resume when they talked before, and whether the customer can be reached at all: a customer is
reachable in the chat when the brand's site signed them in the widget as a client who accepted the
service terms (conversations need them). Reaching one resumes the latest conversation of the pair,
or starts one of kind `outbound` with the client's widget account: it lands in the client's
inbox, and the offline notice tells them by email when they are away (docs/conversations.md).

A customer is named by an opaque reference, the keyed hash the dedicated-member document is
stored under: no customer ID, name or address reaches the member through this list.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.conversations import attribution, conversations
from shared.conversations.models import Party
from shared.errors import Conflict, NotFound
from shared.events.model import Publisher
from shared.identity import repository
from shared.identity.models import Member
from shared.identity.visitors import CLIENT_KEY
from shared.ports.store import BrandStore
from shared.sales import dedicated

_NAMESPACE = uuid.UUID("9a3e51c2-7d1b-4c0f-8e6a-2f5b0d9c4a17")


class NotReachable(Conflict):
    code = "not-reachable"
    title = "This customer cannot be reached in the chat"


def _client(store: BrandStore, key: str) -> dict[str, Any] | None:
    """The client's widget account when it can be talked to (active, service terms accepted)."""
    owner = repository.owner_of(store=store, kind=CLIENT_KEY, hashed=key)
    doc = store.find(repository.VISITORS, owner) if owner else None
    return doc if doc and doc.get("status") == "active" and doc.get("serviceTerms") else None


def _conversation(store: BrandStore, key: str, member_id: str) -> dict[str, Any] | None:
    found = store.find(attribution.KEYS, f"{key}|{member_id}")
    return store.find(conversations.CONVERSATIONS, found["conversationId"]) if found else None


def customers(*, store: BrandStore, member: Member, page_size: int,
              continuation: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The member's dedicated customers: how each came to them, and the conversation to resume."""
    docs, more = dedicated.customers_of(store=store, member_id=member.id, page_size=page_size,
                                        continuation=continuation)
    items = []
    for doc in docs:
        conversation = _conversation(store, doc["id"], member.id)
        items.append({"customerRef": doc["id"], "source": doc["source"], "assignedAt": doc["assignedAt"],
                      "storeId": doc.get("storeId"),
                      "conversationId": conversation["id"] if conversation else None,
                      "lastMessageAt": conversation.get("lastMessageAt") if conversation else None,
                      "reachable": conversation is not None or _client(store, doc["id"]) is not None})
    return items, more


def reach(*, store: BrandStore, events: Publisher, member: Member, customer_ref: str,
          now: datetime) -> dict[str, Any]:
    """The conversation the member writes to their dedicated customer in: resumed, or started (`outbound`).

    404 for a customer who is not the member's; 409 `not-reachable` for one never signed in the widget.
    """
    doc = dedicated.of_customer(store=store, key=customer_ref)
    if doc is None or doc["memberId"] != member.id:
        raise NotFound("Customer not found")
    if (conversation := _conversation(store, customer_ref, member.id)) is not None:
        return conversation
    client = _client(store, customer_ref)
    if client is None:
        raise NotReachable("This customer has not chatted in the brand's widget as a signed-in client yet")
    conversation_id = uuid.uuid5(_NAMESPACE, f"outbound\x1f{client['id']}\x1f{member.id}").hex
    return conversations.start(store=store, events=events, conversation_id=conversation_id, kind="outbound",
                               member=Party(kind="member", id=member.id),
                               visitor=Party(kind="visitor", id=client["id"]), started_at=now)

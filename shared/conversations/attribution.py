"""What attribution asks conversations: "did this customer talk with a member lately?".

The sales module's attribution rules (shared/sales/attribution.py) end with "the latest conversation
with a member in the window", through the lookups the composition root registers
(shared/sales/conversations.py). This is the conversations' lookup.

A widget visitor whom the brand's site recognised is a client: their account keeps the keyed hash
of the brand's customer ID (`customerIdHash`), which is the order's customer key. For each message
of a conversation between a member and such a client, `conversation_keys` keeps one document per
(customer key, member): the conversation and the last message instant of each day, for the longest
attribution window. An order placed within the window after one of them attributes to the member
of the latest, with reason "conversation". Anonymous visitors (no customer ID) are not attributed
by conversation: nothing ties their widget account to the shop's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.brands import service as brands
from shared.clock import isoformat, parse_instant
from shared.conversations.conversations import CONVERSATIONS
from shared.conversations.events import MessagePosted
from shared.ports.platform import Platform
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import update_document
from shared.sales import dedicated
from shared.sales.conversations import ConversationHit

KEYS = "conversation_keys"
# Days of activity kept per customer and member: more than any attribution window a brand may set.
DAYS_KEPT = 400
_ATTEMPTS = 10


def _client_and_member(store: BrandStore, conversation_id: str) -> tuple[str, str] | None:
    """(customer key, member id) of a conversation between a member and a client; None otherwise."""
    conversation = store.find(CONVERSATIONS, conversation_id)
    if conversation is None or conversation.get("kind") == "community" or not conversation.get("memberId"):
        return None
    visitor = next((p["id"] for p in conversation["parties"] if p["kind"] == "visitor"), None)
    account = store.find("visitors", visitor) if visitor else None
    key = (account or {}).get("customerIdHash")
    return (key, conversation["memberId"]) if key else None


def index_message(*, platform: Platform, event: MessagePosted) -> None:
    """Note the message's instant under the client's customer key and the member (a set: once is enough)."""
    store = platform.store.for_brand(event.brand_id)
    found = _client_and_member(store, event.conversation_id)
    if found is None:
        return
    key, member_id = found
    at = isoformat(event.occurred_at)
    day = at[:10]

    def noted(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        doc = doc or {"id": f"{key}|{member_id}", "key": key, "memberId": member_id, "days": {}}
        if doc["days"].get(day, "") >= at:
            return None
        days = dict(sorted({**doc["days"], day: at}.items())[-DAYS_KEPT:])
        return {**doc, "conversationId": event.conversation_id, "days": days, "lastAt": max(days.values())}

    update_document(store, KEYS, f"{key}|{member_id}", noted, attempts=_ATTEMPTS)


def dedicate_last_served(*, platform: Platform, event: MessagePosted) -> None:
    """A member wrote to a client: under the brand's `last_served` rule, their dedicated member (shared/sales)."""
    if not event.author.startswith("member:"):
        return
    brand = brands.get(store=platform.store, brand_id=event.brand_id)
    if brand.dedicated_member_rule != "last_served":
        return
    store = platform.store.for_brand(event.brand_id)
    if (found := _client_and_member(store, event.conversation_id)) is not None:
        dedicated.served(store=store, brand=brand, key=found[0], member_id=found[1], now=event.occurred_at)


def latest_conversation(store: BrandStore, keys: Sequence[str], since: datetime,
                        until: datetime) -> ConversationHit | None:
    """The latest conversation of these customer keys with a member in [since, until] (the registered lookup)."""
    low, high = isoformat(since), isoformat(until)
    best: ConversationHit | None = None
    for key in dict.fromkeys(keys):
        for doc in store.query_all(KEYS, filters=[Filter("key", "=", key), Filter("lastAt", ">=", low)],
                                   page_size=100):
            inside = [at for at in doc["days"].values() if low <= at <= high]
            if inside:
                hit = ConversationHit(member_id=doc["memberId"], at=parse_instant(max(inside)),
                                      conversation_id=doc["conversationId"])
                best = hit if best is None or hit.at > best.at else best
    return best

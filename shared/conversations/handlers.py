"""What conversations do when their own events arrive: tell the connected clients (docs/realtime.md).

The store is the record and clients catch up by cursor, so a push is a hint: the envelope names
what changed (ids, the cursor), never a message's text; the client reads the message over HTTP.
Each party listens on their own group (a member's, a visitor's), so one connection follows every
conversation of theirs; available members follow the brand's waiting list.
"""

from __future__ import annotations

from shared.clock import isoformat
from shared.conversations import attribution, conversations, hot_list, metrics, offline_notice
from shared.conversations.events import (
    ConversationRead,
    ConversationStarted,
    MessagePosted,
    WaitingRequestAbandoned,
    WaitingRequestJoined,
    WaitingRequestLeft,
)
from shared.conversations.models import Party
from shared.identity.events import VisitorMerged
from shared.notifications.service import Notification, notify_member, notify_members
from shared.ports.platform import Platform
from shared.ports.realtime import group_name
from shared.ports.store import Filter
from shared.realtime import access
from shared.tracking.events import VisitorBrowsed

WAITING_LIST = "all"


def party_group(brand_id: str, party: str) -> str:
    """The group a party ("member:<id>" / "visitor:<id>") listens on."""
    kind, _, party_id = party.partition(":")
    return group_name(brand_id=brand_id, kind=kind, item_id=party_id)


def waiting_list_group(brand_id: str) -> str:
    return group_name(brand_id=brand_id, kind="waiting-list", item_id=WAITING_LIST)


def push_message(platform: Platform, event: MessagePosted) -> None:
    """Both parties' clients learn of the message (the author's other devices too)."""
    data = {"conversationId": event.conversation_id, "messageId": event.message_id, "seq": event.seq}
    for party in (*(event.recipients or [event.recipient]), event.author):
        access.publish(realtime=platform.realtime, clock=platform.clock, group=party_group(event.brand_id, party),
                       type="conversation.message", brand_id=event.brand_id, data=data,
                       envelope_id=f"{event.id}:{party}")


def push_read(platform: Platform, event: ConversationRead) -> None:
    """The other parties' clients learn how far this party read (the read receipt)."""
    data = {"conversationId": event.conversation_id, "party": event.party, "upTo": event.up_to}
    for party in event.others:
        access.publish(realtime=platform.realtime, clock=platform.clock, group=party_group(event.brand_id, party),
                       type="conversation.read", brand_id=event.brand_id, data=data, envelope_id=f"{event.id}:{party}")


def push_waiting_request(platform: Platform, event: WaitingRequestJoined) -> None:
    """The members watching the waiting list see a new request."""
    access.publish(realtime=platform.realtime, clock=platform.clock, group=waiting_list_group(event.brand_id),
                   type="waiting-list.joined", brand_id=event.brand_id, data={"requestId": event.request_id},
                   envelope_id=event.id)


def push_request_left(platform: Platform, event: WaitingRequestLeft) -> None:
    """The request leaves the members' lists; its visitor learns it was picked up (or cancelled)."""
    data = {"requestId": event.request_id, "state": event.state, "conversationId": event.conversation_id}
    access.publish(realtime=platform.realtime, clock=platform.clock, group=waiting_list_group(event.brand_id),
                   type="waiting-list.left", brand_id=event.brand_id, data=data, envelope_id=f"{event.id}:list")
    access.publish(realtime=platform.realtime, clock=platform.clock,
                   group=party_group(event.brand_id, f"visitor:{event.visitor_id}"), type="conversation.request",
                   brand_id=event.brand_id, data=data, envelope_id=f"{event.id}:visitor")


# Members a waiting-list push reaches at most (the first available ones by id): a brand with more
# available members than this shows the request to all of them in the App anyway.
MAX_NOTIFIED = 1000


def _available_members(platform: Platform, brand_id: str) -> list[str]:
    """Members online or away now (their stated availability, not past the time they gave)."""
    store, now = platform.store.for_brand(brand_id), isoformat(platform.clock.now())
    found: list[str] = []
    for state in ("online", "away"):
        page = store.query("members", filters=[Filter("directory.availability", "=", state)],
                           page_size=MAX_NOTIFIED, fields=("status", "directory.availabilityUntil"))
        found += [doc["id"] for doc in page.items if doc.get("status") == "active"
                  and ((doc.get("directory") or {}).get("availabilityUntil") or "9999") > now]
    return sorted(found)[:MAX_NOTIFIED]


def notify_waiting_request(platform: Platform, event: WaitingRequestJoined) -> None:
    """Available members get a push for each new waiting-list request (no visitor data in it)."""
    notify_members(bus=platform.bus, brand_id=event.brand_id, member_ids=_available_members(platform, event.brand_id),
                   notification=Notification(kind="waiting-list", key=event.request_id,
                                             title="New waiting-list request",
                                             body="A visitor is waiting for a conversation",
                                             url=f"/waiting-list/{event.request_id}", tag="waiting-list"))


def notify_message(platform: Platform, event: MessagePosted) -> None:
    """A member gets a push for each message written to them: by a visitor, or by members (community)."""
    for recipient in event.recipients or [event.recipient]:
        kind, _, member_id = recipient.partition(":")
        if kind != "member":
            continue
        by_visitor = event.author.startswith("visitor:")
        notify_member(bus=platform.bus, brand_id=event.brand_id, member_id=member_id,
                      notification=Notification(kind="direct-message", key=event.message_id,
                                                title="New message",
                                                body="A visitor wrote to you" if by_visitor
                                                else "A member wrote to you",
                                                url=f"/conversations/{event.conversation_id}",
                                                tag=f"conversation-{event.conversation_id}"))


def notice_offline_visitor(platform: Platform, event: MessagePosted) -> None:
    """A visitor away when a member replied: one email per unread burst (shared/conversations/offline_notice.py)."""
    offline_notice.notice_offline_visitor(platform=platform, event=event)


# The conversation metrics' counters (shared/conversations/metrics.py), each change counted once.

def count_joined(platform: Platform, event: WaitingRequestJoined) -> None:
    metrics.count_joined(platform=platform, event=event)


def count_left(platform: Platform, event: WaitingRequestLeft) -> None:
    metrics.count_left(platform=platform, event=event)


def count_abandoned(platform: Platform, event: WaitingRequestAbandoned) -> None:
    metrics.count_abandoned(platform=platform, event=event)


def count_started(platform: Platform, event: ConversationStarted) -> None:
    metrics.count_started(platform=platform, event=event)


def count_message(platform: Platform, event: MessagePosted) -> None:
    metrics.count_message(platform=platform, event=event)


def conversations_of_merged_visitor(platform: Platform, event: VisitorMerged) -> None:
    """A temporary account merged into a client: its conversations are the client's now (found on return)."""
    conversations.carry_over(store=platform.store.for_brand(event.brand_id),
                             from_party=Party(kind="visitor", id=event.visitor_id),
                             to_party=Party(kind="visitor", id=event.client_id))


def index_for_attribution(platform: Platform, event: MessagePosted) -> None:
    """A client's message with a member: noted for the orders that follow (shared/conversations/attribution.py)."""
    attribution.index_message(platform=platform, event=event)


def dedicate_last_served(platform: Platform, event: MessagePosted) -> None:
    """A member wrote to a client: the brand's `last_served` rule makes them the client's dedicated member."""
    attribution.dedicate_last_served(platform=platform, event=event)


def record_browsing(platform: Platform, event: VisitorBrowsed) -> None:
    """A visitor's page or pick counts into their visit on the hot list."""
    hot_list.record(store=platform.store.for_brand(event.brand_id), event=event)

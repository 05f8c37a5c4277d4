"""Who handles which domain event: every subscription of the process, declared in one place.

The features raise their events (`shared/<feature>/events.py`) and write their handlers
(`shared/<feature>/handlers.py`); only this module, part of the composition root, says which
handler runs for which event, in which order, in process or through the `domain-events` queue.
docs/events.md is the catalogue this list follows.
"""

from __future__ import annotations

from functools import partial

from shared.catalog import handlers as catalog
from shared.catalog.events import CategoriesMoved
from shared.conversations import attribution as conversation_attribution
from shared.conversations import handlers as conversations
from shared.conversations.events import (
    ConversationRead,
    ConversationStarted,
    MessagePosted,
    WaitingRequestAbandoned,
    WaitingRequestJoined,
    WaitingRequestLeft,
)
from shared.crm import handlers as crm
from shared.crm.events import OrderContactLinked
from shared.events.dispatcher import Subscription
from shared.identity.events import MemberErased, VisitorMerged
from shared.notifications import handlers as notifications
from shared.sales import conversations as sales_conversations
from shared.sales import handlers as sales
from shared.sales import orders
from shared.sales.events import OrderEvent, OrderPlaced
from shared.tracking.events import VisitorBrowsed


def subscriptions() -> tuple[Subscription, ...]:
    """Every handler, in the order each event meets them."""
    return (
        # An order's write: its counters first, then (on OrderPlaced) its contact, then its sales line,
        # which needs the contact the order names.
        Subscription(OrderEvent, "sales.count-order", sales.count_order),
        Subscription(OrderPlaced, "crm.contact-for-order", crm.contact_for_order),
        Subscription(OrderContactLinked, "sales.link-order-contact", sales.link_contact),
        Subscription(OrderEvent, "crm.follow-sale", partial(crm.follow_sale, current=orders.sale_state)),
        # A member erased (by a retention rule, their request, the brand's end): their contacts go too.
        Subscription(MemberErased, "crm.contacts-of-erased-member", crm.contacts_of_erased_member),
        Subscription(MemberErased, "catalog.products-of-erased-member", catalog.products_of_erased_member),
        Subscription(MemberErased, "notifications.subscriptions-of-erased-member",
                     notifications.subscriptions_of_erased_member),
        # Conversations: the connected clients are told (a push is a hint; clients catch up by cursor).
        Subscription(WaitingRequestJoined, "conversations.push-waiting-request", conversations.push_waiting_request),
        Subscription(WaitingRequestLeft, "conversations.push-request-left", conversations.push_request_left),
        Subscription(MessagePosted, "conversations.push-message", conversations.push_message),
        Subscription(ConversationRead, "conversations.push-read", conversations.push_read),
        # ...and the members whose phones should ring: queued pushes (shared/notifications), sent by the queue.
        Subscription(WaitingRequestJoined, "conversations.notify-waiting-request",
                     conversations.notify_waiting_request),
        Subscription(MessagePosted, "conversations.notify-message", conversations.notify_message),
        # A client's conversation with a member, for the attribution of their next orders.
        Subscription(MessagePosted, "conversations.index-for-attribution", conversations.index_for_attribution),
        # ...and, under the brand's `last_served` rule, the member who last wrote becomes their dedicated member.
        Subscription(MessagePosted, "conversations.dedicate-last-served", conversations.dedicate_last_served,
                     out_of_process=True),
        # A visitor away when a member replies: one email per unread burst (to their email_tmp).
        Subscription(MessagePosted, "conversations.offline-notice", conversations.notice_offline_visitor,
                     out_of_process=True),
        # The hot list: each visitor's page or pick, as the tracking queue counts it (already on a queue).
        Subscription(VisitorBrowsed, "hot-list.record-browsing", conversations.record_browsing),
        # A temporary account merged into a client: the client finds its conversations.
        Subscription(VisitorMerged, "conversations.conversations-of-merged-visitor",
                     conversations.conversations_of_merged_visitor),
        # The conversation metrics' counters (through the queue: a post never waits for the day's counters).
        Subscription(WaitingRequestJoined, "conversation-metrics.count-joined", conversations.count_joined,
                     out_of_process=True),
        Subscription(WaitingRequestLeft, "conversation-metrics.count-left", conversations.count_left,
                     out_of_process=True),
        Subscription(WaitingRequestAbandoned, "conversation-metrics.count-abandoned",
                     conversations.count_abandoned, out_of_process=True),
        Subscription(ConversationStarted, "conversation-metrics.count-started", conversations.count_started,
                     out_of_process=True),
        Subscription(MessagePosted, "conversation-metrics.count-message", conversations.count_message,
                     out_of_process=True),
        # A category moved: the products under it follow (a big subtree is many writes: through the queue).
        Subscription(CategoriesMoved, "catalog.products-under-moved-categories",
                     catalog.products_under_moved_categories, out_of_process=True),
    )


def register_lookups() -> None:
    """What one feature asks another through a registry: attribution's conversation rule (sales knows no chat)."""
    sales_conversations.register("conversations", conversation_attribution.latest_conversation)

"""What the sales feature does when an order is written, or its contact decided (docs/events.md)."""

from __future__ import annotations

from shared.crm.events import OrderContactLinked
from shared.ports.platform import Platform
from shared.sales import orders
from shared.sales.events import OrderEvent


def count_order(platform: Platform, event: OrderEvent) -> None:
    """The member's and the brand's counters take the order's pending changes, each exactly once."""
    orders.count_pending(store=platform.store.for_brand(event.brand_id), order_id=event.order_id)


def link_contact(platform: Platform, event: OrderContactLinked) -> None:
    """The order names the contact the CRM made or matched for it (or why it made none)."""
    orders.link_contact(store=platform.store.for_brand(event.brand_id), order_id=event.order_id,
                        contact_id=event.contact_id,
                        refused=event.refused)

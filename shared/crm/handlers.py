"""What the CRM does when another feature's event arrives (docs/events.md).

An order placed: the order's contact. Any write of an order: its line in the contact's sales
history. A member erased: their contacts go with them.
"""

from __future__ import annotations

import logging

from shared.brands import service as brands
from shared.crm import invitations, order_contacts, sales_history
from shared.crm.events import OrderContactLinked
from shared.errors import DomainError
from shared.events.model import event_id
from shared.identity.events import MemberErased
from shared.ports.platform import Platform
from shared.sales.events import OrderEvent, OrderPlaced

log = logging.getLogger(__name__)


def contact_for_order(platform: Platform, event: OrderPlaced) -> list[OrderContactLinked]:
    """The member's contact for a placed order: made with the order rule, or the one already there.

    None for an unattributed order (contacts belong to a member), for one without a customer, and
    for a voucher's purchase (its contact exists and is named on the order already).
    """
    if event.customer is None or event.member_id is None or event.reason == "voucher":
        return []
    store = platform.store.for_brand(event.brand_id)
    brand = brands.get(store=platform.store, brand_id=event.brand_id)
    request = order_contacts.OrderContact(member_id=event.member_id, order_id=event.order_id,
                                          customer=event.customer, brand_opt_in=event.brand_opt_in)
    linked = {"id": event_id(OrderContactLinked.name, event.id), "brand_id": event.brand_id,
              "occurred_at": event.occurred_at, "order_id": event.order_id}
    try:
        contact, _ = order_contacts.from_order(store=store, brand=brand, data=request,
                                               hasher=platform.hasher(event.brand_id), now=event.occurred_at)
    except DomainError as exc:
        log.info("order %s: contact refused (%s)", event.order_id, exc.code)
        return [OrderContactLinked(**linked, refused=exc.code)]
    return [OrderContactLinked(**linked, contact_id=contact.id)]


def follow_sale(platform: Platform, event: OrderEvent, *, current: sales_history.SaleReader) -> None:
    """The order's line in its contact's sales history follows the order, whichever change arrives."""
    store = platform.store.for_brand(event.brand_id)
    brand = brands.get(store=platform.store, brand_id=event.brand_id)
    sales_history.follow(store=store, brand=brand, order_id=event.order_id, current=current)


def contacts_of_erased_member(platform: Platform, event: MemberErased) -> None:
    """The guide: a member's contacts go with them, except those with a brand opt-in (for communications);
    when all the brand's data goes, every contact goes."""
    invitations.on_member_erased(store=platform.store.for_brand(event.brand_id),
                                 journal=platform.journal(event.brand_id), member_id=event.member_id,
                                 now=event.occurred_at, keep_brand_opt_ins=not event.brand_data_goes)

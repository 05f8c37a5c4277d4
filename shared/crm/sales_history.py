"""A contact's sales history (guide v4, contact data): the orders and store purchases credited to its member.

"Online orders or store purchase made following a Member's publication": one line per order
(`SaleRef`, keyed by the order's reference), date and amount only; the products stay in the
Manager. The order service writes the line once the order is attributed to the contact's member
(an order that created or matched the contact, a store purchase with the contact's voucher), and
writes it again after each update, refund or cancel of the order.

Writing a line is setting a state, not adding a step: the line of an order is replaced in place,
never appended a second time, under the contact's etag. So a re-post, posts racing each other
or the replay after a crash all leave exactly one line per order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from shared.brands.models import Brand
from shared.crm import service as contacts
from shared.crm.models import SaleRef
from shared.errors import Conflict
from shared.ports.store import BrandStore
from shared.ports.store_retry import retrying

# A contact document must stay small (Cosmos DB items are at most 2 MB): past this, the oldest lines go.
MAX_LINES = 500
_ATTEMPTS = 10
log = logging.getLogger(__name__)


class OrderSale(NamedTuple):
    """An order's line as the order stands: the contact and member it belongs to, the line itself."""

    contact_id: str
    member_id: str
    sale: SaleRef


# The order's line as it stands now (None: the order has no contact), as the order service reads it.
SaleReader = Callable[[BrandStore, str], OrderSale | None]


def with_sale(sales: list[SaleRef], sale: SaleRef) -> list[SaleRef]:
    """The history with `sale` as the one line of its reference (in place when it was there), oldest first."""
    if any(line.reference == sale.reference for line in sales):
        return [sale if line.reference == sale.reference else line for line in sales]
    return sorted([*sales, sale], key=lambda line: line.at)[-MAX_LINES:]


def record(*, store: BrandStore, brand: Brand, contact_id: str, member_id: str, sale: SaleRef) -> bool:
    """Set the line of `sale` on the member's contact; False when the contact is gone or not that member's."""

    # Another writer of the contact (or of this very line) winning makes us read it again.
    def attempt() -> bool:
        doc = store.find(contacts.CONTACTS, contact_id)
        if doc is None:
            return False
        contact, etag = contacts.from_document(doc)
        if contact.status != "active" or contact.member_id != member_id:
            return False  # erased since, or not the member's: there is nobody to credit
        sales = with_sale(contact.sales, sale)
        if sales == contact.sales:
            return True
        store.replace(contacts.CONTACTS, contacts.to_document(contact.model_copy(update={"sales": sales}), brand),
                      etag=etag)
        log.info("sale %s recorded on contact %s", sale.reference, contact_id)
        return True

    return retrying(attempt, attempts=_ATTEMPTS, exhausted=Conflict("The contact changed during the call; try again"))


def follow(*, store: BrandStore, brand: Brand, order_id: str, current: SaleReader) -> None:
    """Bring the order's line in its contact's sales history to the order's state, whoever else writes it.

    Two calls on one order (a refund and a re-post, two refunds) may each write the line from what
    they read: each one reads the order again after its write and writes again if the order moved
    meanwhile, so the last line written is always the order's latest state.
    """
    for _ in range(_ATTEMPTS):
        line = current(store, order_id)
        if line is None:
            return
        record(store=store, brand=brand, contact_id=line.contact_id, member_id=line.member_id, sale=line.sale)
        if current(store, order_id) == line:
            return
    raise Conflict("The order changed during the call; try again")

"""What the catalog does when another feature's event arrives (docs/events.md)."""

from __future__ import annotations

from shared.catalog import member_products
from shared.identity.events import MemberErased
from shared.ports.platform import Platform


def products_of_erased_member(platform: Platform, event: MemberErased) -> None:
    """The guide: a member's product lists are member data, erased with the member's profile."""
    member_products.erase(store=platform.store.for_brand(event.brand_id), member_id=event.member_id)

"""What the catalog does when another feature's event arrives (docs/events.md)."""

from __future__ import annotations

from shared.catalog import member_products, reindex
from shared.catalog.events import CategoriesMoved
from shared.identity.events import MemberErased
from shared.ports.platform import Platform


def products_of_erased_member(platform: Platform, event: MemberErased) -> None:
    """The guide: a member's product lists are member data, erased with the member's profile."""
    member_products.erase(store=platform.store.for_brand(event.brand_id), member_id=event.member_id)


def products_under_moved_categories(platform: Platform, event: CategoriesMoved) -> None:
    """Products under a moved category show under its new ancestors (and no longer the old ones)."""
    reindex.under_moved(store=platform.store.for_brand(event.brand_id), category_ids=event.category_ids,
                       now=platform.clock.now())

"""What notifications do on other features' events."""

from __future__ import annotations

from shared.identity.events import MemberErased
from shared.notifications import subscriptions
from shared.ports.platform import Platform


def subscriptions_of_erased_member(platform: Platform, event: MemberErased) -> None:
    """The guide: a member's devices (push subscriptions) are member data, erased with the member."""
    subscriptions.erase_member(store=platform.store.for_brand(event.brand_id), member_id=event.member_id)

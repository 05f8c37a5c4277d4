"""A customer's dedicated member: set by the brand platform, the last attribution rule before "none".

One document per customer in `dedicated_members`, its id the keyed hash of the brand's customer
ID (the clear id is never stored), naming the member the brand assigned to that customer.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.clock import isoformat
from shared.crm.brand_sync import resolve_member
from shared.crm.service import Hasher
from shared.crm.views import MemberRef
from shared.ports.store import BrandStore, DocumentNotFound
from shared.tracking.visits import customer_key

CONTAINER = "dedicated_members"
log = logging.getLogger(__name__)


def assign(*, store: BrandStore, hasher: Hasher, customer_id: str, ref: MemberRef, now: datetime) -> str:
    """Make the named active member the customer's dedicated member; returns the member id."""
    member = resolve_member(store=store, hasher=hasher, ref=ref)
    key = customer_key(hasher, customer_id)
    store.upsert(CONTAINER, {"id": key, "memberId": member.id, "assignedAt": isoformat(now)})
    log.info("dedicated member %s assigned", member.id)
    return member.id


def clear(*, store: BrandStore, hasher: Hasher, customer_id: str) -> None:
    """The customer no longer has a dedicated member (nothing to clear is fine)."""
    try:
        store.delete(CONTAINER, customer_key(hasher, customer_id))
    except DocumentNotFound:
        pass


def member_of(*, store: BrandStore, key: str) -> str | None:
    """The dedicated member of a customer key, or None."""
    doc = store.find(CONTAINER, key)
    return doc["memberId"] if doc else None

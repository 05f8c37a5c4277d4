"""A customer's dedicated member: assigned by the brand platform, chosen by the client, or by the brand's rule.

One document per customer in `dedicated_members`, its id the keyed hash of the brand's customer
ID (the clear id is never stored), naming the member and where the choice came from (`source`):

- `brand`: the brand platform assigned them (`PUT .../customers/{customerId}/dedicated-member`);
- `customer`: the client chose them in the widget (when the brand lets clients choose);
- `rule:last_served`, `rule:home_store`, `rule:nearest_store`: the brand's automatic rule
  (`dedicatedMemberRule`) picked them.

An explicit choice (the brand's or the client's, the latest one standing) is never overridden by a
rule. Rules only fill a customer who has none, except `last_served`, which follows the member who
last wrote to the client for as long as no explicit choice exists. The store rules take the listed
members of one store in turn: a per-store counter, incremented under its etag, so two customers
assigned at once get two different members. Attribution's last rule before "none" is this member.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.brands.models import Brand
from shared.clock import isoformat
from shared.crm.brand_sync import resolve_member
from shared.crm.service import Hasher
from shared.crm.views import MemberRef
from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import repository
from shared.identity.directory_index import haversine_km
from shared.identity.models import ExternalUser, Role
from shared.ports.store import BrandStore, DocumentNotFound, Filter
from shared.ports.store_retry import update_document
from shared.sales import conversations
from shared.tracking.visits import customer_key

CONTAINER = "dedicated_members"
ROTATIONS = "dedicated_rotations"
EXPLICIT = ("brand", "customer")
# How far back "the member who last served them" looks when no message has named one yet.
LAST_SERVED_LOOKBACK = timedelta(days=400)
# Listed members of one store a rotation reads (far more than a store's staff).
STORE_MEMBERS = 500
_ATTEMPTS = 20
log = logging.getLogger(__name__)

Source = Literal["brand", "customer", "rule:last_served", "rule:home_store", "rule:nearest_store"]


def _set(*, store: BrandStore, key: str, member_id: str, source: Source, now: datetime,
         store_id: str | None = None, only_if: Sequence[str | None] = ()) -> dict[str, Any] | None:
    """Write the customer's dedicated member; with `only_if`, only over a document of one of those sources
    (None: no document). The stored document, or None when the condition kept the current one."""

    def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        current = doc.get("source", "brand") if doc else None
        if only_if and current not in only_if:
            return None
        if doc and doc["memberId"] == member_id and current == source:
            return None
        if doc and current == source == "rule:last_served" and doc["assignedAt"] > isoformat(now):
            return None  # a later message already named the member who last served (events may come out of order)
        return {"id": key, "memberId": member_id, "source": source, "storeId": store_id, "assignedAt": isoformat(now)}

    written = update_document(store, CONTAINER, key, change, attempts=_ATTEMPTS)
    return written[1] if written else None


def assign(*, store: BrandStore, hasher: Hasher, customer_id: str, ref: MemberRef, now: datetime) -> str:
    """The brand platform makes the named active member the customer's dedicated member; the member id."""
    member = resolve_member(store=store, hasher=hasher, ref=ref)
    _set(store=store, key=customer_key(hasher, customer_id), member_id=member.id, source="brand", now=now)
    log.info("dedicated member %s assigned by the brand", member.id)
    return member.id


def client_key(visitor: ExternalUser) -> str:
    """The customer key of a widget visitor the brand's site signed in; 403 for a temporary account."""
    if visitor.role != Role.CLIENT or not visitor.customer_id_hash:
        raise Forbidden("Only a client signed in on the brand's site has a dedicated member")
    return visitor.customer_id_hash


def choose(*, store: BrandStore, brand: Brand, visitor: ExternalUser, member_id: str, now: datetime) -> dict[str, Any]:
    """The client chose their dedicated member: one the directory lists (404 otherwise), if the brand lets them."""
    if not brand.dedicated_member_choice:
        raise Forbidden("The brand assigns dedicated members itself")
    key = client_key(visitor)
    member = store.find(repository.MEMBERS, member_id)
    if member is None or not (member.get("directory") or {}).get("listed"):
        raise NotFound("Member not found")
    _set(store=store, key=key, member_id=member_id, source="customer", now=now)
    log.info("dedicated member %s chosen by the customer", member_id)
    return store.get(CONTAINER, key)


def release(*, store: BrandStore, visitor: ExternalUser) -> None:
    """The client drops their dedicated member; one the brand assigned stays (409)."""
    key = client_key(visitor)
    current = of_customer(store=store, key=key)
    if current is not None and current["source"] == "brand":
        raise Conflict("The brand assigned this dedicated member: ask the brand to change it")
    forget(store=store, key=key)


def clear(*, store: BrandStore, hasher: Hasher, customer_id: str) -> None:
    """The customer no longer has a dedicated member (nothing to clear is fine)."""
    forget(store=store, key=customer_key(hasher, customer_id))


def forget(*, store: BrandStore, key: str) -> None:
    try:
        store.delete(CONTAINER, key)
    except DocumentNotFound:
        pass


def of_customer(*, store: BrandStore, key: str) -> dict[str, Any] | None:
    """The dedicated-member document of a customer key, or None."""
    doc = store.find(CONTAINER, key)
    return {**doc, "source": doc.get("source", "brand")} if doc else None


def member_of(*, store: BrandStore, key: str) -> str | None:
    """The dedicated member of a customer key, or None."""
    doc = store.find(CONTAINER, key)
    return doc["memberId"] if doc else None


def customers_of(*, store: BrandStore, member_id: str, page_size: int,
                 continuation: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A member's dedicated customers (documents), a page at a time."""
    page = store.query(CONTAINER, filters=[Filter("memberId", "=", member_id)], page_size=page_size,
                       continuation=continuation)
    return [{**doc, "source": doc.get("source", "brand")} for doc in page.items], page.continuation


def served(*, store: BrandStore, brand: Brand, key: str, member_id: str, now: datetime) -> None:
    """A member wrote to the client: under `last_served`, they become the dedicated member (no explicit one)."""
    if brand.dedicated_member_rule == "last_served":
        _set(store=store, key=key, member_id=member_id, source="rule:last_served", now=now,
             only_if=(None, "rule:last_served", "rule:home_store", "rule:nearest_store"))


def _store_members(store: BrandStore, store_id: str) -> list[str]:
    """The store's members the directory lists (active, not hidden: the ones customers may talk to)."""
    members = store.query(repository.MEMBERS, filters=[Filter("directory.shopId", "=", store_id)],
                          page_size=STORE_MEMBERS, fields=("id",)).items
    return sorted(doc["id"] for doc in members)


def _next_in_turn(store: BrandStore, store_id: str) -> str | None:
    """The next listed member of the store, in turn (None: the store lists nobody)."""
    members = _store_members(store, store_id)
    if not members:
        return None

    def turn(doc: dict[str, Any] | None) -> dict[str, Any]:
        doc = doc or {"id": store_id, "turns": 0}
        return {**doc, "turns": doc["turns"] + 1}

    written = update_document(store, ROTATIONS, store_id, turn, attempts=_ATTEMPTS)
    assert written is not None
    return members[(written[1]["turns"] - 1) % len(members)]


def _nearest_store(store: BrandStore, lat: float, lon: float) -> list[str]:
    """The open stores with a position, nearest first."""
    stores = [doc for doc in store.query_all("stores", filters=[Filter("status", "=", "open")], page_size=1000)
              if doc.get("location")]
    stores.sort(key=lambda doc: haversine_km(lat, lon, doc["location"]["lat"], doc["location"]["lon"]))
    return [doc["id"] for doc in stores]


def by_rule(*, store: BrandStore, brand: Brand, key: str, now: datetime, store_id: str | None = None,
            near: tuple[float, float] | None = None) -> dict[str, Any] | None:
    """The customer's dedicated member, given one by the brand's rule if they have none and the rule can tell.

    `store_id`: the customer's home store (their in-store order's, or the one they named);
    `near`: their position. Returns the document, or None when they have none and the rule names nobody.
    """
    current = of_customer(store=store, key=key)
    if current is not None:
        return current
    rule = brand.dedicated_member_rule
    member_id, chosen_store = None, None
    if rule == "last_served":
        hit = conversations.latest(store=store, keys=[key], since=now - LAST_SERVED_LOOKBACK, until=now)
        member_id = hit.member_id if hit else None
    elif rule == "home_store" and store_id:
        member_id, chosen_store = _next_in_turn(store, store_id), store_id
    elif rule == "nearest_store" and near:
        for candidate in _nearest_store(store, *near):
            if (member_id := _next_in_turn(store, candidate)) is not None:
                chosen_store = candidate
                break
    if member_id is None:
        return None
    _set(store=store, key=key, member_id=member_id, source=f"rule:{rule}", now=now,  # type: ignore[arg-type]
         store_id=chosen_store, only_if=(None,))
    log.info("dedicated member %s given by rule %s", member_id, rule)
    return of_customer(store=store, key=key)

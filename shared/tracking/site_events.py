"""Site events: page views and product picks posted by the brand site's tag or a widget.

The endpoint only checks, hashes and enqueues (`tracking-events`); the queue function
(`shared.tracking.aggregator`) decides what counts. Raw identifiers stop here: the brand's
customer ID and the tag's temporary visitor id become one keyed visitor key (the same rule as
orders, so a keyed visitor of the site is the customer of the order), the IP only feeds the
rate limit as a keyed hash. No cookie is involved: the tag keeps the reference and its
temporary id in local storage (Data Protection Guide v4).

Origins: a browser always sends `Origin` on a cross-site POST, so a present Origin must be one
of the brand's widget origins (403 otherwise). A request without Origin is a server-side tag
(the brand's own backend): accepted, because Origin is no authentication anyway (any script
can forge it), and what protects the counters is the signed reference and the rate limit.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.brands.models import Brand
from shared.catalog import products as catalog
from shared.errors import Forbidden, InvalidInput, RateLimited
from shared.identity import throttle
from shared.ports.bus import QUEUE_TRACKING_EVENTS, MessageBus
from shared.ports.store import BrandStore
from shared.privacy.hashing import BrandHasher
from shared.tracking import messages, visits

MAX_BATCH = 20
_MAX_PATH = 500
# Per hashed IP and brand: 120 requests a minute (a busy shopper's tab sends a few a page), then
# one minute of 429. Offices and shops behind one address stay far below it.
RATE_POLICY = throttle.ThrottlePolicy(max_failures=120, window=timedelta(minutes=1),
                                      lockout=timedelta(minutes=1))


class SiteEventIn(BaseModel):
    """One event as the tag posts it."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    type: Literal["page_view", "product_pick"]
    event_id: str | None = Field(None, alias="eventId", pattern=r"^[A-Za-z0-9_-]{8,64}$")
    reference: str | None = Field(None, max_length=120)
    customer_id: str | None = Field(None, alias="customerId", min_length=1, max_length=200)
    visitor_id: str | None = Field(None, alias="visitorId", pattern=r"^[A-Za-z0-9_-]{8,128}$")
    path: str | None = Field(None, max_length=2000)
    # The product of the page: picked (product_pick), or viewed on its page (page_view, optional).
    product_id: str | None = Field(None, alias="productId", min_length=1, max_length=120)
    # A product_pick may name its product by the page it is on instead: the catalog resolves it.
    url: str | None = Field(None, max_length=2000)
    member_id: str | None = Field(None, alias="memberId", pattern=r"^[A-Za-z0-9_.:|-]{1,128}$")

    @model_validator(mode="after")
    def _pick_names_a_product(self) -> SiteEventIn:
        if self.type == "product_pick" and not (self.product_id or self.url):
            raise ValueError("productId (or the product page's url) is required for a product_pick")
        return self


def parse(body: Any) -> list[SiteEventIn]:
    """One event (a JSON object) or a batch (a JSON array of 1 to 20); InvalidInput names the failing field."""
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_BATCH:
        raise InvalidInput(f"Send 1 to {MAX_BATCH} events", errors=[{"field": "body", "message": "1 to 20 events"}])
    parsed, errors = [], []
    for index, item in enumerate(items):
        try:
            parsed.append(SiteEventIn.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(part) for part in error["loc"]]
                if error["type"] == "value_error" and not loc:
                    loc = ["productId"]
                prefix = [str(index)] if isinstance(body, list) else []
                # The message only: pydantic's input echo may hold a customer ID.
                errors.append({"field": ".".join(prefix + loc) or "body", "message": error["msg"]})
    if errors:
        raise InvalidInput("Invalid value for: " + ", ".join(error["field"] for error in errors), errors=errors)
    return parsed


def clean_path(path: str | None) -> str | None:
    """The page path only: a full URL loses scheme and host, every path loses query string and fragment."""
    if not path:
        return None
    parts = urlsplit(path.strip())
    cleaned = parts.path or "/"
    return cleaned[:_MAX_PATH]


def visitor_key(hasher: BrandHasher, *, customer_id: str | None, visitor_id: str | None) -> str | None:
    """The keyed visitor key: of the brand's customer ID when known, else of the tag's temporary id."""
    if customer_id:
        return visits.customer_key(hasher, customer_id)
    if visitor_id:
        return visits.temporary_key(hasher, visitor_id)
    return None


def event_id(brand_id: str, client_event_id: str | None) -> str:
    """The queue event id: the client's id (idempotent retries) scoped to the brand, or a fresh one.

    Scoping matters because the bus's duplicate detection is per queue, across brands: a site
    must not be able to suppress another brand's events by reusing their ids.
    """
    if client_event_id is None:
        return uuid.uuid4().hex
    return "c" + hashlib.sha256(f"{brand_id}\x1f{client_event_id}".encode()).hexdigest()[:40]


def to_event(brand_id: str, item: SiteEventIn, *, hasher: BrandHasher,
             now: datetime) -> messages.PageViewEvent | messages.ProductPickEvent:
    """The queue event of one posted item: hashed keys, path without query, server time."""
    common = {"eventId": event_id(brand_id, item.event_id), "brandId": brand_id, "at": now,
              "reference": item.reference, "customer": item.customer_id is not None,
              "visitorKey": visitor_key(hasher, customer_id=item.customer_id, visitor_id=item.visitor_id)}
    if item.type == "page_view":
        return messages.PageViewEvent.model_validate(common | {"path": clean_path(item.path),
                                                               "productId": item.product_id})
    return messages.ProductPickEvent.model_validate(common | {"memberId": item.member_id, "productId": item.product_id})


def check_origin(brand: Brand, origin: str | None) -> None:
    """A browser's Origin must be one of the brand's widget origins; no Origin (a server-side tag) passes."""
    if origin is not None and origin.lower() not in brand.widget_allowed_origins:
        raise Forbidden("This site is not among the brand's widget origins")


def rate_limit(*, store: BrandStore, ip_hash: str | None, now: datetime) -> None:
    """Count this request against the hashed IP (same throttle as the external form); 429 past the limit."""
    if ip_hash is None:
        return
    try:
        throttle.count(store=store, limits=[throttle.Limit(f"site-events-ip:{ip_hash}", RATE_POLICY)], now=now)
    except RateLimited as exc:
        raise RateLimited("Too many events from this address; try again later", **exc.extra) from None


def _resolved(store: BrandStore, items: list[SiteEventIn], *, listed: bool) -> list[SiteEventIn]:
    """Product picks named by their page URL get the catalog product's id; 422 for a page no product has."""
    resolved, errors = [], []
    for index, item in enumerate(items):
        if item.type == "product_pick" and item.product_id is None:
            product = catalog.resolve(store=store, url=item.url)
            if product is None:
                errors.append({"field": f"{index}.url" if listed else "url",
                               "message": "no product of the brand's catalog has this page"})
                continue
            item = item.model_copy(update={"product_id": product["id"]})
        resolved.append(item)
    if errors:
        raise InvalidInput("Invalid value for: " + ", ".join(error["field"] for error in errors), errors=errors)
    return resolved


def accept(*, store: BrandStore, bus: MessageBus, brand: Brand, hasher: BrandHasher, body: Any, origin: str | None,
           ip_hash: str | None, now: datetime) -> int:
    """Check origin, rate and body, then enqueue the events; returns how many were enqueued."""
    check_origin(brand, origin)
    rate_limit(store=store, ip_hash=ip_hash, now=now)
    items = _resolved(store, parse(body), listed=isinstance(body, list))
    outgoing = [messages.to_message(to_event(brand.id, item, hasher=hasher, now=now)) for item in items]
    bus.send(QUEUE_TRACKING_EVENTS, outgoing)
    return len(outgoing)

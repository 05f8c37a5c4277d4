"""`/t/{code}`: the product's hottest path. One cached point read, one queue message, a 302.

Per request, on a warm cache: no store read, no pydantic validation, no thread hop, two keyed
hashes, one signature, and the visit event handed to the write-behind outbox
(`shared.tracking.visit_outbox`), which sends events to the queue in batches.

Codes (found or not: a flood of random codes must not reach the store)
and the few brand fields the redirect needs (status, home page, widget origins, social commerce) are cached for
`CACHE_TTL_SECONDS`, timed by the container's clock; so a disabled link, or a brand that stops
being active, stops counting within that time on every instance (at once on the instance that
made the change, which forgets the code).

Where a click goes:
- unknown (or malformed) code → the platform fallback URL (setting `link_fallback_url`);
- a link landing on a catalog product's page goes to the App's page of the product while the brand
  has social commerce (`socialCommerce`, read with the brand's other cached fields), to the stored
  target (the brand's product page) otherwise: so the setting moves every such link within the cache time;
- disabled link, or a brand that is not active → the brand's home page (fallback if unset);
- bot, crawler, link preview, missing user agent, or a HEAD → the target, without reference, not counted;
- otherwise → the target with `popsell_ref=<signed reference>`, and one VisitEvent enqueued.
A click is internal (glossary) when the App or a widget marked the link (`?via=app|widget`), or
when the browser came from the App or one of the brand's widget origins (Referer / Origin).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from cachetools import LRUCache, TTLCache

from shared.catalog.pages import app_product_url
from shared.clock import Clock
from shared.ids import unique_hex
from shared.ports.bus import OutgoingMessage
from shared.ports.store import DocumentStore
from shared.privacy.hashing import BrandHasher
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import link_codes, reference
from shared.tracking.bots import is_bot
from shared.tracking.visit_outbox import VisitOutbox

log = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 30.0
INTERNAL_VIA = frozenset({"app", "widget"})
_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")  # what a reference can carry; anything else is unknown at once
_MAX_CODES = 100_000
_MAX_BRANDS = 10_000
_MAX_USER_AGENTS = 4_096
_BRANDS = "brands"

Outcome = Literal["visit", "bot", "unknown", "disabled"]


@dataclass(frozen=True, slots=True)
class CachedLink:
    """What the redirect needs of a code, prepared once per cache fill."""

    code: str
    brand_id: str
    link_id: str
    member_id: str
    source: str
    target_kind: str
    active: bool
    url: str  # the target as the member set it
    base: str  # the target without fragment and without any popsell_ref of its own
    separator: str  # "?" or "&"
    fragment: str  # "" or "#..."
    app_page: str | None = None  # the App's page of the catalog product the link lands on, if it does

    def landing(self, social_commerce: bool) -> str:
        """Where the link lands, without reference."""
        return self.app_page if social_commerce and self.app_page else self.url

    def with_reference(self, ref: str, social_commerce: bool = False) -> str:
        """Where the link lands, with the attribution reference added to its query."""
        if social_commerce and self.app_page:
            return f"{self.app_page}?{reference.QUERY_PARAMETER}={ref}"
        return f"{self.base}{self.separator}{reference.QUERY_PARAMETER}={ref}{self.fragment}"


@dataclass(frozen=True, slots=True)
class BrandBits:
    """The few brand fields the redirect needs."""

    active: bool
    home_url: str | None
    internal_origins: frozenset[str]
    social_commerce: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """Where to send the browser, and the queue message of a counted visit (if any)."""

    location: str
    outcome: Outcome
    message: OutgoingMessage | None = None
    code: str = ""
    link_id: str = ""


def _prepare(doc: dict, app_base_url: str) -> CachedLink:
    url = doc["url"]
    without_fragment, hash_mark, fragment = url.partition("#")
    path, question, query = without_fragment.partition("?")
    # Keep the target's own parameters as written; only a stale reference of ours is dropped.
    kept = [part for part in query.split("&") if part and part.split("=", 1)[0] != reference.QUERY_PARAMETER]
    base = f"{path}?{'&'.join(kept)}" if kept else path
    return CachedLink(
        code=doc["id"], brand_id=doc["linkBrandId"], link_id=doc["linkId"], member_id=doc["memberId"],
        source=doc["source"], target_kind=doc["targetKind"], active=doc.get("status", "active") == "active",
        url=url, base=base, separator="&" if kept else "?", fragment=f"{hash_mark}{fragment}",
        app_page=app_product_url(app_base_url, doc["linkBrandId"], doc["productId"]) if doc.get("productId") else None,
    )


def _origin(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def _web_url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


class Redirector:
    """Resolves codes (cached) and decides each click; one per process (see `for_container`)."""

    def __init__(self, *, store: DocumentStore, outbox: VisitOutbox, clock: Clock, master_key: str,
                 fallback_url: str, app_base_url: str, ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        self._platform = store.for_brand(PLATFORM_SCOPE)
        self.outbox = outbox
        self._clock = clock
        self._master_key = master_key
        self._fallback_url = fallback_url
        self._app_base_url = app_base_url
        self._app_origin = _origin(app_base_url)
        timer = self._seconds
        self._codes: TTLCache[str, CachedLink | None] = TTLCache(_MAX_CODES, ttl_seconds, timer=timer)
        self._brands: TTLCache[str, BrandBits] = TTLCache(_MAX_BRANDS, ttl_seconds, timer=timer)
        self._hashers: LRUCache[str, BrandHasher] = LRUCache(_MAX_BRANDS)
        self._ua_hashes: LRUCache[tuple[str, str], str] = LRUCache(_MAX_USER_AGENTS)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; sync routes run in threads

    def _seconds(self) -> float:
        return self._clock.now().timestamp()

    def link(self, code: str) -> CachedLink | None:
        """The code's link (cached, misses included), or None for an unknown or malformed code."""
        if not _CODE.match(code):
            return None
        with self._lock:
            try:
                return self._codes[code]
            except KeyError:
                pass
        doc = self._platform.find(link_codes.CONTAINER, code, pk=link_codes.partition(code))
        found = _prepare(doc, self._app_base_url) if doc else None
        with self._lock:
            self._codes[code] = found
        return found

    def brand(self, brand_id: str) -> BrandBits:
        """The brand's status, home page and internal origins (cached)."""
        with self._lock:
            try:
                return self._brands[brand_id]
            except KeyError:
                pass
        doc = self._platform.find(_BRANDS, brand_id) or {}
        origins = {origin for origin in doc.get("widgetAllowedOrigins") or [] if isinstance(origin, str)}
        if self._app_origin:
            origins.add(self._app_origin)
        bits = BrandBits(active=doc.get("status") == "active", home_url=_web_url(doc.get("homeUrl")),
                         internal_origins=frozenset(origins), social_commerce=doc.get("socialCommerce") is True)
        with self._lock:
            self._brands[brand_id] = bits
        return bits

    def warm(self, code: str) -> bool:
        """Whether deciding `code` needs no store read (its link and brand are cached, or it is malformed)."""
        if not _CODE.match(code):
            return True
        with self._lock:
            if code not in self._codes:
                return False
            link = self._codes[code]
            return link is None or link.brand_id in self._brands

    def load(self, code: str) -> None:
        """Fill the caches for `code` (the store reads an async caller runs in a thread)."""
        link = self.link(code)
        if link is not None:
            self.brand(link.brand_id)

    def forget(self, code: str) -> None:
        """Drop a code from this process's cache (its link just changed here)."""
        with self._lock:
            self._codes.pop(code, None)

    def _hasher(self, brand_id: str) -> BrandHasher:
        with self._lock:
            hasher = self._hashers.get(brand_id)
        if hasher is None:
            hasher = BrandHasher(self._master_key, brand_id)
            with self._lock:
                self._hashers[brand_id] = hasher
        return hasher

    def _ua_hash(self, brand_id: str, hasher: BrandHasher, user_agent: str) -> str:
        # A few browser versions make most of the traffic: their keyed hash is kept rather than redone.
        key = (brand_id, user_agent)
        with self._lock:
            found = self._ua_hashes.get(key)
        if found is None:
            found = hasher("user_agent", user_agent)
            with self._lock:
                self._ua_hashes[key] = found
        return found

    def decide(self, code: str, *, method: str = "GET", user_agent: str | None = None, client_ip: str | None = None,
               via: str | None = None, referer: str | None = None, origin: str | None = None) -> Decision:
        """Where one request for `code` goes, and the visit event to enqueue when it counts."""
        link = self.link(code)
        if link is None:
            return Decision(self._fallback_url, "unknown")
        brand = self.brand(link.brand_id)
        if not link.active or not brand.active:
            return Decision(brand.home_url or self._fallback_url, "disabled", code=code, link_id=link.link_id)
        if method != "GET" or is_bot(user_agent):
            return Decision(link.landing(brand.social_commerce), "bot", code=code, link_id=link.link_id)
        now = self._clock.now()
        click_id = unique_hex(64)
        ref = reference.sign(self._master_key, link.brand_id, code=code, click_id=click_id, clicked_at=now)
        internal = via in INTERNAL_VIA or bool(
            {_origin(referer), _origin(origin)} & brand.internal_origins)
        hasher = self._hasher(link.brand_id)
        body = {
            "eventId": click_id, "brandId": link.brand_id, "at": now.isoformat().replace("+00:00", "Z"),
            "internal": internal, "code": code, "linkId": link.link_id, "memberId": link.member_id,
            "source": link.source, "targetKind": link.target_kind, "type": "visit",
        }
        if client_ip:
            body["ipHash"] = hasher("ip", client_ip)
        if user_agent:
            body["uaHash"] = self._ua_hash(link.brand_id, hasher, user_agent)
        # The body `events.to_message` would give, built without a model: every field comes from the
        # stored code or from us, and a model costs more than the rest of the click (a test holds them equal).
        message = OutgoingMessage(body=body, message_id=f"visit:{click_id}", subject="visit")
        return Decision(link.with_reference(ref, brand.social_commerce), "visit", message, code=code,
                        link_id=link.link_id)

    def enqueue(self, decision: Decision) -> None:
        """Hand the decision's visit event to the outbox; a failure is logged (ids only), never stops the redirect."""
        if decision.message is None:
            return
        try:
            self.outbox.put(decision.message)
        except Exception as exc:  # noqa: BLE001 - the visitor must land on the target whatever the bus does
            log.warning("visit not enqueued code=%s link=%s error=%s", decision.code, decision.link_id,
                        type(exc).__name__)

    def follow(self, code: str, **request: str | None) -> Decision:
        """Decide a click and enqueue its visit: what `/t/{code}` does."""
        decision = self.decide(code, **request)
        self.enqueue(decision)
        return decision


_current: tuple[object, Redirector] | None = None
_current_lock = threading.Lock()


def for_container(container) -> Redirector:  # noqa: ANN001 - the composition root, imported lazily by callers
    """The process's redirector for this composition root (a new root, e.g. a test's, gets a fresh cache)."""
    global _current
    current = _current
    if current is not None and current[0] is container:
        return current[1]
    with _current_lock:
        if _current is None or _current[0] is not container:
            settings = container.settings
            if _current is not None:
                _current[1].outbox.close()  # a replaced composition root sends what its redirector kept
            _current = (container, Redirector(
                store=container.store, outbox=VisitOutbox(container.bus, flush_ms=settings.redirect_flush_ms),
                clock=container.clock,
                master_key=settings.hash_master_key, fallback_url=settings.link_fallback_url,
                app_base_url=settings.app_base_url,
            ))
        return _current[1]


def close() -> None:
    """Send the visit events the process's redirector still holds (a clean stop loses no click)."""
    current = _current
    if current is not None:
        current[1].outbox.close()

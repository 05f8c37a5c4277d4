"""The brand's products, kept in step with its platform: batches, single pushes, retirement (docs/catalog.md).

A product is stored under the brand's own id. Each line of a batch is checked on its own, so one
bad line is rejected with its reason and the others go through; a line that is accepted writes
one document (its whole state), so nothing is ever half-written. The document keeps a content
hash of what the platform sent: a line identical to the stored product is "unchanged" and costs
one read, no write, which makes a repeated sync of an unchanged catalog cheap.

A retired product (deleted by the platform, or left out of a full sync run) leaves the catalog's
views and the members' lists (ProductRetired), and comes back if the platform sends it again.
Orders never read the catalog: their lines keep what the order said.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.catalog import categories
from shared.catalog.events import retired
from shared.catalog.models import ProductIn
from shared.catalog.results import LineResult, Outcome, check_size, checked, line_id
from shared.clock import isoformat, parse_instant
from shared.errors import InvalidInput, NotFound
from shared.events.model import Publisher
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch, Filter
from shared.ports.store_retry import retrying

PRODUCTS = "products"
# Lines per batch: a request stays small enough for the Functions host's time and body limits
# (500 products of a rich feed are about 1 MB); larger catalogs come in several batches of a run.
MAX_BATCH = 500
_ATTEMPTS = 5
log = logging.getLogger(__name__)


# Part of every line hash: a release that changes what a valid line is bumps it, so lines checked by
# the old rules are checked again once instead of passing as "unchanged".
LINE_RULES = "1"


def line_hash(line: dict[str, Any]) -> str:
    """A digest of a line exactly as sent (key order aside): an identical line skips validation."""
    canonical = json.dumps(line, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{LINE_RULES}\x1f{canonical}".encode()).hexdigest()


def fields_of(product: ProductIn) -> dict[str, Any]:
    """The product's fields as stored (camelCase JSON), defaults filled in."""
    return product.model_dump(mode="json", by_alias=True)


def content_hash(fields: dict[str, Any]) -> str:
    """A digest of everything the platform said of the product (key order and defaults do not matter)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def to_document(fields: dict[str, Any], *, digest: str, created_at: str, now: datetime,
                line_digest: str | None = None) -> dict[str, Any]:
    """The stored form: what the platform sent, its hashes, and its place in the catalog's life."""
    return {**fields, "status": "active", "contentHash": digest,
            "lineHash": line_digest, "retiredAt": None, "retiredBy": None, "createdAt": created_at,
            "updatedAt": isoformat(now)}


_UNREAD: Any = object()


def _write(store: BrandStore, product: ProductIn, now: datetime, *, line_digest: str | None = None,
           read: Any = _UNREAD) -> Outcome:
    """Create or replace one product (etag-guarded: a concurrent writer makes us read again).

    `read` is what the caller read of the product already (None: not there); a retry reads again.
    """
    reads = [read] if read is not _UNREAD else []
    fields = fields_of(product)
    digest = content_hash(fields)

    def attempt() -> Outcome:
        current = reads.pop() if reads else store.find(PRODUCTS, product.id)
        if current is None:
            try:
                store.create(PRODUCTS, to_document(fields, digest=digest, created_at=isoformat(now), now=now,
                                                   line_digest=line_digest))
            except DocumentConflict:
                raise EtagMismatch("created meanwhile") from None
            return "created"
        if current.get("contentHash") == digest and current.get("status") == "active":
            return "unchanged"
        store.replace(PRODUCTS, to_document(fields, digest=digest, created_at=current["createdAt"], now=now,
                                            line_digest=line_digest), etag=current["_etag"])
        return "updated"

    return retrying(attempt, attempts=_ATTEMPTS)


def upsert_batch(*, store: BrandStore, lines: list[Any], now: datetime) -> list[LineResult]:
    """Apply a batch of product lines, each on its own; one result per line, in order.

    A line is rejected when it is malformed, names a category the brand's tree does not have, or
    repeats an id an earlier line of the batch already gave. More than MAX_BATCH lines: 422, nothing
    applied.
    """
    check_size(lines, limit=MAX_BATCH, field="products", what="products")
    known = categories.ids(store=store)
    results: list[LineResult] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        sent_id = line_id(line)
        current, digest = _UNREAD, None
        if sent_id is not None and sent_id not in seen:
            # The fast path of a resent catalog: the very line stored before, its categories still there.
            digest = line_hash(line)
            current = store.find(PRODUCTS, sent_id)
            if (current is not None and current.get("lineHash") == digest and current["status"] == "active"
                    and all(category in known for category in current.get("categoryIds", []))):
                seen.add(sent_id)
                results.append(LineResult(index, sent_id, "unchanged"))
                continue
        product = checked(index, line, ProductIn, seen)
        if isinstance(product, LineResult):
            results.append(product)
            continue
        unknown = [category for category in product.category_ids if category not in known]
        if unknown:
            results.append(LineResult(index, product.id, "rejected", [
                {"field": "categoryIds", "message": f"unknown category {category!r}"} for category in unknown]))
            continue
        results.append(LineResult(index, product.id, _write(store, product, now,
                                                            line_digest=digest,
                                                            read=current if sent_id == product.id else _UNREAD)))
    counts = {outcome: sum(result.outcome == outcome for result in results)
              for outcome in ("created", "updated", "unchanged", "rejected")}
    log.info("catalog batch for brand %s: %s", store.brand_id, counts)
    return results


def upsert_one(*, store: BrandStore, data: ProductIn, now: datetime) -> tuple[dict[str, Any], Outcome]:
    """One product pushed on its own (a platform's webhook); the stored product and what the call did."""
    unknown = [category for category in data.category_ids if category not in categories.ids(store=store)]
    if unknown:
        raise InvalidInput("Unknown category", errors=[
            {"field": "categoryIds", "message": f"unknown category {category!r}"} for category in unknown])
    outcome = _write(store, data, now)
    return store.get(PRODUCTS, data.id), outcome


def get(*, store: BrandStore, product_id: str) -> dict[str, Any]:
    """A product of the catalog, retired ones included (orders and the platform still name them); 404."""
    doc = store.find(PRODUCTS, product_id)
    if doc is None:
        raise NotFound("Product not found")
    return doc


def retire(*, store: BrandStore, events: Publisher, product_id: str, by: str, now: datetime) -> bool:
    """Take a product out of the catalog's views and the members' lists; False when it was already out.

    The document stays (retired): an order or a report that names it still finds its last title and
    price, and the platform sending it again brings it back.
    """

    def attempt() -> tuple[bool, str]:
        doc = store.find(PRODUCTS, product_id)
        if doc is None:
            raise NotFound("Product not found")
        if doc["status"] == "retired":
            return False, doc["retiredAt"]
        store.replace(PRODUCTS, {**doc, "status": "retired", "retiredAt": isoformat(now), "retiredBy": by,
                                 "updatedAt": isoformat(now)}, etag=doc["_etag"])
        return True, isoformat(now)

    changed, retired_at = retrying(attempt, attempts=_ATTEMPTS)
    # Raised also when the product was out already (same id: the instant it was retired), so the retry
    # of a call that crashed after the write still reaches the handlers.
    events.publish(retired(store.brand_id, product_id, at=parse_instant(retired_at)))
    if changed:
        log.info("product %s of brand %s retired (%s)", product_id, store.brand_id, by)
    return changed


def _without(url: str, *parts: str) -> str:
    split = urlsplit(url)
    return urlunsplit(split._replace(**{part: "" for part in parts}))


def resolve(*, store: BrandStore, product_id: str | None = None, url: str | None = None) -> dict[str, Any] | None:
    """The active catalog product a page names (product picking): by the brand's id, else by its page URL.

    A URL matches a product's `link` as it is, then without its fragment, then without its query
    string too (a shop's page URL often carries tracking parameters its feed's link does not).
    """
    if product_id is not None:
        doc = store.find(PRODUCTS, product_id)
        return doc if doc is not None and doc["status"] == "active" else None
    if not url:
        return None
    for candidate in dict.fromkeys((url, _without(url, "fragment"), _without(url, "query", "fragment"))):
        page = store.query(PRODUCTS, filters=[Filter("link", "=", candidate), Filter("status", "=", "active")],
                           page_size=1)
        if page.items:
            return page.items[0]
    return None


MAX_VARIANTS = 100


def detail(*, store: BrandStore, product_id: str, locale: str | None = None) -> dict[str, Any]:
    """An active product with the other active variants of its item group (in id order); 404 otherwise.

    With `locale`, the title and description are the product's translation when it has one.
    """
    doc = store.find(PRODUCTS, product_id)
    if doc is None or doc["status"] != "active":
        raise NotFound("Product not found")
    variants: list[dict[str, Any]] = []
    if doc.get("itemGroupId"):
        page = store.query(PRODUCTS, filters=[Filter("itemGroupId", "=", doc["itemGroupId"]),
                                              Filter("status", "=", "active")], page_size=MAX_VARIANTS + 1)
        variants = [_localised(item, locale) for item in page.items if item["id"] != product_id][:MAX_VARIANTS]
    return {**_localised(doc, locale), "variants": variants}


def _localised(doc: dict[str, Any], locale: str | None) -> dict[str, Any]:
    translations = doc.get("translations") or {}
    # "fr-CH" falls back to "fr"; without a translation, the brand's own text.
    text = (translations.get(locale) or translations.get(locale.split("-")[0])) if locale else None
    return {**doc, **({key: value for key, value in text.items() if value is not None} if text else {})}

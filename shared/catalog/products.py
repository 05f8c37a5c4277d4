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
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.catalog import categories, counts, search_fields
from shared.catalog.events import retired
from shared.catalog.models import ProductIn
from shared.catalog.results import LineResult, Outcome, check_size, checked, count_outcomes, line_id
from shared.catalog.search_fields import current as search_current
from shared.catalog.search_fields import search_part
from shared.clock import isoformat, parse_instant
from shared.errors import InvalidInput, NotFound
from shared.events.model import Publisher
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch, Filter, Write
from shared.ports.store_retry import retrying

PRODUCTS = "products"
# Lines per batch: a request stays small enough for the Functions host's time and body limits
# (500 products of a rich feed are about 1 MB); larger catalogs come in several batches of a run.
MAX_BATCH = 500
# Lines written in one store transaction (a Cosmos DB transactional batch holds at most 100).
WRITE_CHUNK = 100
_ATTEMPTS = 5
log = logging.getLogger(__name__)


# Part of every line hash: a release that changes what a valid line is bumps it, so lines checked by
# the old rules are checked again once instead of passing as "unchanged".
LINE_RULES = "2"


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


_UNREAD: Any = object()


def to_document(fields: dict[str, Any], *, digest: str, created_at: str, now: datetime,
                trail_of: Mapping[str, list[str]], line_digest: str | None = None) -> dict[str, Any]:
    """The stored form: what the platform sent, its hashes, its search part and its place in the catalog's life."""
    return {**fields, "status": "active", "contentHash": digest,
            "lineHash": line_digest, "retiredAt": None, "retiredBy": None, "createdAt": created_at,
            "updatedAt": isoformat(now), "search": search_part(fields, trail_of)}


def _unchanged(current: dict[str, Any], digest: str) -> bool:
    """The stored product says what the line says, is active, and is indexed by today's rules."""
    return current.get("contentHash") == digest and current["status"] == "active" and search_current(current)


@dataclass
class _Pending:
    """A line accepted and read, waiting for its write."""

    index: int
    product: ProductIn
    current: dict[str, Any] | None
    doc: dict[str, Any]


def _write(store: BrandStore, product: ProductIn, now: datetime, trail_of: Mapping[str, list[str]], *,
           line_digest: str | None = None, read: Any = _UNREAD) -> tuple[Outcome, Counter[str]]:
    """Create or replace one product (etag-guarded: a concurrent writer makes us read again).

    `read` is what the caller read of the product already (None: not there); a retry reads again.
    The outcome, and what it changed in the category counts.
    """
    reads = [read] if read is not _UNREAD else []
    fields = fields_of(product)
    digest = content_hash(fields)

    def attempt() -> tuple[Outcome, Counter[str]]:
        current = reads.pop() if reads else store.find(PRODUCTS, product.id)
        if current is not None and _unchanged(current, digest):
            return "unchanged", Counter()
        doc = to_document(fields, digest=digest, now=now, trail_of=trail_of, line_digest=line_digest,
                          created_at=current["createdAt"] if current else isoformat(now))
        if current is None:
            try:
                store.create(PRODUCTS, doc)
            except DocumentConflict:
                raise EtagMismatch("created meanwhile") from None
            return "created", counts.difference(None, doc)
        store.replace(PRODUCTS, doc, etag=current["_etag"])
        return "updated", counts.difference(current, doc)

    return retrying(attempt, attempts=_ATTEMPTS)


def _write_all(store: BrandStore, pending: list[_Pending], now: datetime, trail_of: Mapping[str, list[str]],
               results: list[LineResult]) -> Counter[str]:
    """The accepted lines' writes, a transaction per WRITE_CHUNK lines; what they changed in the counts.

    A chunk that lost a race (a product created or changed since it was read) is written again line
    by line, each line re-reading its product: the others' writes are not lost and none is doubled.
    """
    change: Counter[str] = Counter()
    for start in range(0, len(pending), WRITE_CHUNK):
        chunk = pending[start:start + WRITE_CHUNK]
        writes = [Write("create", item.doc) if item.current is None
                  else Write("replace", item.doc, etag=item.current["_etag"]) for item in chunk]
        try:
            store.write_batch(PRODUCTS, writes)
        except (DocumentConflict, EtagMismatch):
            for item in chunk:
                outcome, moved = _write(store, item.product, now, trail_of, line_digest=item.doc["lineHash"])
                results.append(LineResult(item.index, item.product.id, outcome))
                change.update(moved)
            continue
        for item in chunk:
            results.append(LineResult(item.index, item.product.id, "created" if item.current is None else "updated"))
            change.update(counts.difference(item.current, item.doc))
    return change


def upsert_batch(*, store: BrandStore, lines: list[Any], now: datetime) -> list[LineResult]:
    """Apply a batch of product lines, each on its own; one result per line, in order.

    A line is rejected when it is malformed, names a category the brand's tree does not have, or
    repeats an id an earlier line of the batch already gave. More than MAX_BATCH lines: 422, nothing
    applied. The accepted lines are written in transactions of WRITE_CHUNK, then the category counts
    once for the batch.
    """
    check_size(lines, limit=MAX_BATCH, field="products", what="products")
    trail_of = search_fields.trails(categories.nodes(store=store))
    results: list[LineResult] = []
    pending: list[_Pending] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        sent_id = line_id(line)
        current, digest = _UNREAD, None
        if sent_id is not None and sent_id not in seen:
            # The fast path of a resent catalog: the very line stored before, its categories still there.
            digest = line_hash(line)
            current = store.find(PRODUCTS, sent_id)
            if (current is not None and current.get("lineHash") == digest and current["status"] == "active"
                    and search_current(current)
                    and all(category in trail_of for category in current.get("categoryIds", []))):
                seen.add(sent_id)
                results.append(LineResult(index, sent_id, "unchanged"))
                continue
        product = checked(index, line, ProductIn, seen)
        if isinstance(product, LineResult):
            results.append(product)
            continue
        unknown = [category for category in product.category_ids if category not in trail_of]
        if unknown:
            results.append(LineResult(index, product.id, "rejected", [
                {"field": "categoryIds", "message": f"unknown category {category!r}"} for category in unknown]))
            continue
        if current is _UNREAD or sent_id != product.id:
            current = store.find(PRODUCTS, product.id)
        fields = fields_of(product)
        digest_of_fields = content_hash(fields)
        if current is not None and _unchanged(current, digest_of_fields):
            results.append(LineResult(index, product.id, "unchanged"))
            continue
        pending.append(_Pending(index, product, current, to_document(
            fields, digest=digest_of_fields, now=now, trail_of=trail_of, line_digest=digest,
            created_at=current["createdAt"] if current else isoformat(now))))
    counts.apply(store=store, change=_write_all(store, pending, now, trail_of, results), now=now)
    results.sort(key=lambda result: result.index)
    log.info("catalog batch for brand %s: %s", store.brand_id, count_outcomes(results))
    return results


def upsert_one(*, store: BrandStore, data: ProductIn, now: datetime) -> tuple[dict[str, Any], Outcome]:
    """One product pushed on its own (a platform's webhook); the stored product and what the call did."""
    trail_of = search_fields.trails(categories.nodes(store=store))
    unknown = [category for category in data.category_ids if category not in trail_of]
    if unknown:
        raise InvalidInput("Unknown category", errors=[
            {"field": "categoryIds", "message": f"unknown category {category!r}"} for category in unknown])
    outcome, change = _write(store, data, now, trail_of)
    counts.apply(store=store, change=change, now=now)
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
            return False, doc["retiredAt"], Counter()
        # Without its search part, the product leaves every view of the catalog at once.
        after = {key: value for key, value in doc.items() if key != "search"}
        store.replace(PRODUCTS, {**after, "status": "retired", "retiredAt": isoformat(now), "retiredBy": by,
                                 "updatedAt": isoformat(now)}, etag=doc["_etag"])
        return True, isoformat(now), counts.difference(doc, None)

    changed, retired_at, change = retrying(attempt, attempts=_ATTEMPTS)
    counts.apply(store=store, change=change, now=now)
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
        variants = [localised(item, locale) for item in page.items if item["id"] != product_id][:MAX_VARIANTS]
    return {**localised(doc, locale), "variants": variants}


def localised(doc: dict[str, Any], locale: str | None) -> dict[str, Any]:
    """The product with its title and description in `locale` when it has them ("fr-CH" falls back to "fr")."""
    translations = doc.get("translations") or {}
    # "fr-CH" falls back to "fr"; without a translation, the brand's own text.
    text = (translations.get(locale) or translations.get(locale.split("-")[0])) if locale else None
    return {**doc, **({key: value for key, value in text.items() if value is not None} if text else {})}

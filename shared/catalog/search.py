"""Reading the catalog in the App and the widget: browse by category, search, filter, sort, page.

Every view reads the `search` part only active products carry (shared/catalog/search_fields.py):
- a category: its products and its subcategories' (`search.categories` holds the ancestors);
- text: a substring of the title (or a translation), brand, GTIN, MPN or id, whatever case and
  accents (the "contains" index of the store); one or two characters match the start of titles;
- availability, and a price range in one currency (the sale price when there is one);
- sorted by title, by price either way, or by relevance: exact GTIN / MPN / id first, then titles
  starting with the text, then the other matches, each by title. Without text, relevance is by title.

Pages continue with an opaque token: the group of the relevance order and the store's own keyset
token inside it, so a page never reads what earlier pages served.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from shared.catalog import categories, counts
from shared.catalog.models import Availability
from shared.errors import InvalidInput, NotFound
from shared.ports.store import BrandStore, Document, Filter, filtered_page
from shared.text import search_key

PRODUCTS = "products"
Sort = Literal["relevance", "title", "price", "-price"]
MAX_PAGE_SIZE = 100
MAX_TEXT = 100
# Store reads per stretch of the order at most; a page that ran out of them is served short, with its
# continuation.
_MAX_READS = 4
_TOP = "\U0010ffff"
TRIGRAM = 3


@dataclass(frozen=True)
class CatalogQuery:
    """One catalog request, validated by `make_query`."""

    text: str | None = None
    category_id: str | None = None
    availability: Availability | None = None
    currency: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    sort: Sort = "relevance"
    page_size: int = 20
    continuation: str | None = None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field, errors=[{"field": field, "message": message}])


def make_query(*, text: str | None = None, category_id: str | None = None, availability: Availability | None = None,
               currency: str | None = None, min_price: int | None = None, max_price: int | None = None,
               sort: Sort = "relevance", page_size: int = 20, continuation: str | None = None) -> CatalogQuery:
    """A validated query: a price bound needs its currency, and the range must not be empty."""
    key = search_key(text) if text else ""
    if len(key) > MAX_TEXT:
        raise _invalid("q", f"the search text holds at most {MAX_TEXT} characters")
    if (min_price is not None or max_price is not None) and currency is None:
        raise _invalid("currency", "a price range needs its currency")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise _invalid("minPrice", "minPrice is at most maxPrice")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _invalid("pageSize", f"pageSize is between 1 and {MAX_PAGE_SIZE}")
    return CatalogQuery(text=key or None, category_id=category_id, availability=availability, currency=currency,
                        min_price=min_price, max_price=max_price, sort=sort, page_size=page_size,
                        continuation=continuation)


@dataclass(frozen=True)
class _Group:
    """One stretch of the order: its own conditions and sort, and what it leaves to an earlier group."""

    filters: tuple[Filter, ...]
    order_by: str
    descending: bool = False
    keep: Callable[[Document], bool] = lambda doc: True


def _filters(query: CatalogQuery) -> list[Filter]:
    filters = []
    if query.category_id is not None:
        filters.append(Filter("search.categories", "has", query.category_id))
    if query.availability is not None:
        filters.append(Filter("search.availability", "=", query.availability))
    if query.currency is not None:
        filters.append(Filter("search.currency", "=", query.currency))
    if query.min_price is not None:
        filters.append(Filter("search.price", ">=", query.min_price))
    if query.max_price is not None:
        filters.append(Filter("search.price", "<=", query.max_price))
    return filters


def _groups(query: CatalogQuery) -> list[_Group]:
    base = _filters(query)
    text = query.text
    if text is None:
        if query.sort in ("price", "-price"):
            return [_Group(tuple(base), "search.price", query.sort == "-price")]
        return [_Group(tuple(base), "search.title")]
    # One or two characters are a type-ahead: titles starting with them (a substring that short
    # would match most of the catalog, and no trigram index serves it).
    prefix = (*base, Filter("search.title", ">=", text), Filter("search.title", "<", text + _TOP))
    contains = (*base, Filter("search.text", "contains", text)) if len(text) >= TRIGRAM else prefix
    if query.sort in ("price", "-price"):
        return [_Group(contains, "search.price", query.sort == "-price")]
    if query.sort == "title":
        return [_Group(contains, "search.title")]

    def exact(doc: Document) -> bool:
        return text in doc["search"].get("codes", [])

    def starts(doc: Document) -> bool:
        return doc["search"]["title"].startswith(text)

    groups = [_Group((*base, Filter("search.codes", "has", text)), "search.title"),
              _Group(prefix, "search.title", keep=lambda doc: not exact(doc))]
    if len(text) >= TRIGRAM:
        groups.append(_Group(contains, "search.title", keep=lambda doc: not exact(doc) and not starts(doc)))
    return groups


def _encode(group: int, token: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps([group, token]).encode()).decode().rstrip("=")


def _decode(token: str, groups: int) -> tuple[int, str | None]:
    try:
        group, inner = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise _invalid("continuation", "malformed continuation token") from None
    if not isinstance(group, int) or not 0 <= group < groups or not (inner is None or isinstance(inner, str)):
        raise _invalid("continuation", "malformed continuation token")
    return group, inner


def search(*, store: BrandStore, query: CatalogQuery) -> tuple[list[Document], str | None]:
    """One page of the catalog's active products matching the query, and the next page's token."""
    if query.category_id is not None and query.category_id not in categories.nodes(store=store):
        raise NotFound("Category not found")
    groups = _groups(query)
    group, token = _decode(query.continuation, len(groups)) if query.continuation else (0, None)
    items: list[Document] = []
    while group < len(groups):
        stretch = groups[group]
        page = filtered_page(store, PRODUCTS, stretch.keep, page_size=query.page_size - len(items),
                             continuation=token, max_reads=_MAX_READS, filters=list(stretch.filters),
                             order_by=stretch.order_by, descending=stretch.descending)
        items += page.items
        token = page.continuation
        if token is not None:
            break  # the stretch holds more: the page is full, or its reads ran out (a short page)
        group += 1
        if len(items) >= query.page_size:
            break
    more = group < len(groups)
    return items, _encode(group, token) if more else None


def browse_tree(*, store: BrandStore, locale: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every category with how many active products it shows (its subcategories' included); the total."""
    counted = counts.read(store=store)
    nodes = []
    for node in categories.tree(store=store):
        names = node.get("translations") or {}
        name = (names.get(locale) or names.get(locale.split("-")[0])) if locale else None
        nodes.append({**node, "name": name or node["name"], "count": counted.get(node["id"], 0)})
    return nodes, counted.get(counts.TOTAL, 0)

"""The `search` part of an active product: what the catalog's views filter, sort and search on.

Only active products carry it, so a view reading its paths never sees a retired product and needs
no status filter. Texts are search keys (shared/text.py): a visitor typing "ete" finds "Été".

- `text`: the title (and its translations), brand, GTIN, MPN and id, for substring search;
- `title`: the title's key, the order "by title";
- `price` / `currency`: what the product sells for now (the sale price when there is one);
- `categories`: the product's categories and every ancestor of theirs, so browsing "Women"
  lists what sits in "Women > Bags > Totes";
- `codes`: GTIN, MPN and id, for the exact matches relevance puts first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.text import search_key

# Bumped when the part's shape changes: a product indexed by older rules is rewritten by its next sync.
SEARCH_RULES = 1
# Between the texts of one product: a query never matches across two of them.
_FIELD_BREAK = "\x1f"


def trails(nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each category's id with its ancestors' (the tree as `categories` stores it)."""
    out: dict[str, list[str]] = {}
    for node_id in nodes:
        chain, current = [], node_id
        while current is not None and current in nodes and current not in chain:
            chain.append(current)
            current = nodes[current].get("parentId")
        out[node_id] = chain
    return out


def categories_of(category_ids: list[str], trail_of: Mapping[str, list[str]]) -> list[str]:
    """The categories a product shows under: its own and their ancestors, each once."""
    return sorted({trail for category in category_ids for trail in trail_of.get(category, [category])})


def search_part(fields: Mapping[str, Any], trail_of: Mapping[str, list[str]]) -> dict[str, Any]:
    """The `search` object of an active product from its stored fields (camelCase)."""
    price = fields.get("salePrice") or fields["price"]
    titles = [fields["title"], *(text["title"] for text in (fields.get("translations") or {}).values())]
    codes = [fields.get(key) for key in ("gtin", "mpn", "id")]
    texts = [*titles, fields.get("brand"), *codes]
    return {
        "v": SEARCH_RULES,
        "text": _FIELD_BREAK.join(search_key(text) for text in texts if text),
        "title": search_key(fields["title"]),
        "price": price["amountMinor"],
        "currency": price["currency"],
        "availability": fields["availability"],
        "categories": categories_of(fields.get("categoryIds") or [], trail_of),
        "codes": sorted({search_key(code) for code in codes if code}),
    }


def current(doc: Mapping[str, Any] | None) -> bool:
    """Whether a stored product's search part follows today's rules (False: write it again)."""
    return doc is not None and (doc.get("search") or {}).get("v") == SEARCH_RULES

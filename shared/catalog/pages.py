"""Where a product's page is: the App's own page with social commerce, otherwise the brand's (docs/catalog.md).

The spec's product pages exist in the Social Commerce scenario only; without it a product is
shown on the brand's site, its `link`. The brand setting `socialCommerce` decides, read when the
page is asked for (product cards and details, and the redirect of share links naming a catalog
product), so turning it on or off moves every page at once. Plain string work, no import of the
catalog's models: the redirect builds the App's URL on its hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


def app_product_url(app_base_url: str, brand_id: str, product_id: str) -> str:
    """The product's page in the App (an id's `/` and `:` percent-encoded: one path segment)."""
    return f"{app_base_url.rstrip('/')}/{brand_id}/products/{quote(product_id, safe='')}"


def page_url(product: Mapping[str, Any], *, social_commerce: bool, app_base_url: str, brand_id: str) -> str:
    """The product's page: the App's with social commerce, the brand's own `link` without."""
    return app_product_url(app_base_url, brand_id, product["id"]) if social_commerce else product["link"]


def with_page_urls(product: Mapping[str, Any], *, social_commerce: bool, app_base_url: str,
                   brand_id: str) -> dict[str, Any]:
    """The product (and each of its `variants`, when it has some) with its `pageUrl`."""
    def paged(item: Mapping[str, Any]) -> dict[str, Any]:
        return {**item, "pageUrl": page_url(item, social_commerce=social_commerce, app_base_url=app_base_url,
                                            brand_id=brand_id)}

    found = paged(product)
    if "variants" in product:
        found["variants"] = [paged(variant) for variant in product["variants"]]
    return found

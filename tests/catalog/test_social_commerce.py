"""The brand's social-commerce setting: with it, a product's page is the App's (product cards and details say
so, share links naming a catalog product land there); without it (the default), the brand's own page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.tracking import reference
from shared.tracking.redirect import CACHE_TTL_SECONDS
from tests.catalog.test_catalog_sync import batch, product
from tests.catalog.test_member_products import APP, WIDGET, headers
from tests.sales.shop import BRAND
from tests.tracking.test_redirect import BROWSER

APP_PAGE = f"https://app.popsell.com/{BRAND}/products"


@pytest.fixture
def catalog(shop):
    answer = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=shop.manager("admin"),
                               json={"allowedDomains": ["shop.example"]})
    assert answer.status_code == 200, answer.text
    batch(shop, [product("tote-black", itemGroupId="tote", color="black"),
                 product("tote-tan", itemGroupId="tote", color="tan"), product("sku:12")])
    return shop


def social_commerce(shop, on: bool) -> dict:
    answer = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=shop.manager("admin"),
                               json={"socialCommerce": on})
    assert answer.status_code == 200, answer.text
    return answer.json()


def share(shop, **target) -> dict:
    link = shop.client.post(f"{APP}/links", headers=headers(shop),
                            json={"source": "whatsapp", "target": {"kind": "product", **target}})
    assert link.status_code == 201, link.text
    return link.json()


def follow(shop, code: str, user_agent: str = BROWSER):
    answer = shop.client.get(f"/t/{code}", headers={"User-Agent": user_agent}, follow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    return f"{location.scheme}://{location.netloc}{location.path}", parse_qs(location.query)


def test_the_setting_is_off_by_default_a_brand_admin_turns_it_on_and_the_app_config_tells(catalog):
    read = catalog.client.get(f"/api/v1/manager/brands/{BRAND}", headers=catalog.manager("admin")).json()
    assert read["socialCommerce"] is False
    assert catalog.client.get(f"{APP}/config").json()["socialCommerce"] is False
    assert social_commerce(catalog, True)["socialCommerce"] is True
    assert catalog.client.get(f"{APP}/config").json()["socialCommerce"] is True
    refused = catalog.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=catalog.manager("admin"),
                                   json={"socialCommerce": "sometimes"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "socialCommerce"
    viewer = catalog.client.patch(f"/api/v1/manager/brands/{BRAND}", headers=catalog.manager("viewer"),
                                  json={"socialCommerce": False})
    assert viewer.status_code == 403


def test_without_social_commerce_a_product_page_is_the_brands_own_link(catalog):
    detail = catalog.client.get(f"{WIDGET}/catalog/products/tote-black").json()
    assert detail["pageUrl"] == "https://shop.example/p/tote-black"
    assert [variant["pageUrl"] for variant in detail["variants"]] == ["https://shop.example/p/tote-tan"]
    picked = catalog.client.get(f"{APP}/catalog/pick", params={"productId": "tote-tan"}, headers=headers(catalog))
    assert picked.json()["pageUrl"] == "https://shop.example/p/tote-tan"


def test_with_social_commerce_a_product_page_is_the_apps(catalog):
    social_commerce(catalog, True)
    detail = catalog.client.get(f"{APP}/catalog/products/tote-black", headers=headers(catalog)).json()
    assert detail["pageUrl"] == f"{APP_PAGE}/tote-black"
    assert detail["link"] == "https://shop.example/p/tote-black"  # the brand's page is still there to read
    assert [variant["pageUrl"] for variant in detail["variants"]] == [f"{APP_PAGE}/tote-tan"]
    # An id is one percent-encoded segment of the App's URL.
    picked = catalog.client.get(f"{WIDGET}/catalog/pick", params={"productId": "sku:12"}).json()
    assert picked["pageUrl"] == f"{APP_PAGE}/sku%3A12"


def test_a_share_link_to_a_catalog_product_lands_where_the_setting_says_when_it_is_followed(catalog):
    link = share(catalog, productId="tote-black")
    assert link["target"]["url"] == "https://shop.example/p/tote-black"
    landing, query = follow(catalog, link["code"])
    assert landing == "https://shop.example/p/tote-black" and reference.QUERY_PARAMETER in query

    social_commerce(catalog, True)
    catalog.container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))  # every instance's cache has expired
    landing, query = follow(catalog, link["code"])
    assert landing == f"{APP_PAGE}/tote-black"
    ref = reference.verify(catalog.container.settings.hash_master_key, BRAND, query[reference.QUERY_PARAMETER][0])
    assert ref is not None and ref.code == link["code"]  # the click is counted and attributed as before
    assert follow(catalog, link["code"], user_agent="facebookexternalhit/1.1") == (f"{APP_PAGE}/tote-black", {})

    social_commerce(catalog, False)  # turned off again: the same link goes back to the brand's page
    catalog.container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))
    assert follow(catalog, link["code"])[0] == "https://shop.example/p/tote-black"


def test_a_share_link_with_its_own_url_keeps_it_whatever_the_setting(catalog):
    social_commerce(catalog, True)
    own = share(catalog, productId="tote-black", url="https://shop.example/lookbook#tote")
    assert follow(catalog, own["code"])[0] == "https://shop.example/lookbook"
    plain = catalog.client.post(f"{APP}/links", headers=headers(catalog), json={
        "source": "email", "target": {"kind": "url", "url": "https://shop.example/p/tote-black"}})
    assert follow(catalog, plain.json()["code"])[0] == "https://shop.example/p/tote-black"

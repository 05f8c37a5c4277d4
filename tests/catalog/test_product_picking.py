"""Product picking resolves a page of the brand's site to its catalog product (by id or page URL), for
the picking interface, for product_pick counters, and for share links naming a catalog product."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandUpdate
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from tests.catalog.test_catalog_sync import CATALOG, batch, product
from tests.catalog.test_member_products import APP, WIDGET, headers
from tests.sales.shop import BRAND, OTHER


@pytest.fixture
def catalog(shop):
    batch(shop, [product("bag", title="Bag", link="https://shop.example/p/bag?size=m"),
                 product("belt", title="Belt")])
    return shop


def test_a_page_resolves_to_its_product_by_id_or_by_url_with_tracking_parameters(catalog):
    by_id = catalog.client.get(f"{WIDGET}/catalog/pick", params={"productId": "bag"})
    assert by_id.status_code == 200 and by_id.json()["title"] == "Bag"
    exact = catalog.client.get(f"{WIDGET}/catalog/pick", params={"url": "https://shop.example/p/bag?size=m#reviews"})
    assert exact.json()["id"] == "bag"
    tracked = catalog.client.get(f"{WIDGET}/catalog/pick", params={"url": "https://shop.example/p/belt?utm_source=x"})
    assert tracked.json()["id"] == "belt"
    member = catalog.client.get(f"{APP}/catalog/pick", params={"productId": "belt"}, headers=headers(catalog))
    assert member.status_code == 200 and member.json()["id"] == "belt"


def test_a_page_no_active_product_has_is_404_and_a_question_without_either_is_422(catalog):
    assert catalog.client.get(f"{WIDGET}/catalog/pick", params={"url": "https://shop.example/p/none"}).status_code == (
        404)
    assert catalog.call("DELETE", f"{CATALOG}/products/bag").status_code == 204
    assert catalog.client.get(f"{WIDGET}/catalog/pick", params={"productId": "bag"}).status_code == 404
    assert catalog.client.get(f"/api/v1/widget/{OTHER}/catalog/pick", params={"productId": "belt"}).status_code == 404
    neither = catalog.client.get(f"{WIDGET}/catalog/pick")
    assert neither.status_code == 422 and neither.json()["errors"][0]["field"] == "productId"


def test_a_product_pick_named_by_its_page_is_counted_for_the_catalog_product(catalog):
    posted = catalog.client.post(f"{WIDGET}/events", json=[
        {"type": "product_pick", "url": "https://shop.example/p/bag?size=m"},
        {"type": "product_pick", "productId": "free-text-id"}])
    assert posted.status_code == 202, posted.text
    picked = [message.body["productId"] for message in catalog.container.bus.receive(QUEUE_TRACKING_EVENTS)]
    assert picked == ["bag", "free-text-id"]
    unknown = catalog.client.post(f"{WIDGET}/events", json=[{"type": "product_pick", "url": "https://x.example/p"}])
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "0.url"


def test_a_share_link_naming_a_catalog_product_lands_on_its_page(catalog):
    brands.update(store=catalog.container.store, clock=catalog.container.clock, brand_id=BRAND,
                  changes=BrandUpdate.model_validate({"allowedDomains": ["shop.example"]}))
    link = catalog.client.post(f"{APP}/links", headers=headers(catalog),
                               json={"source": "whatsapp", "target": {"kind": "product", "productId": "belt"}})
    assert link.status_code == 201, link.text
    target = link.json()["target"]
    assert (target["kind"], target["productId"], target["url"]) == ("product", "belt", "https://shop.example/p/belt")
    assert catalog.call("DELETE", f"{CATALOG}/products/belt").status_code == 204
    retired = catalog.client.post(f"{APP}/links", headers=headers(catalog),
                                  json={"source": "whatsapp", "target": {"kind": "product", "productId": "belt"}})
    assert retired.status_code == 422 and retired.json()["errors"][0]["field"] == "target.productId"
    outside = catalog.client.post(f"{APP}/links", headers=headers(catalog), json={
        "source": "email", "target": {"kind": "product", "productId": "not-synced"}})
    assert outside.status_code == 422  # not in the catalog and no URL: nothing to land on


def test_a_product_page_shows_its_variants_and_the_visitors_language(shop):
    batch(shop, [product("tote-black", itemGroupId="tote", color="black", description="Leather",
                         translations={"fr": {"title": "Cabas noir", "description": "Cuir"}}),
                 product("tote-tan", itemGroupId="tote", color="tan"),
                 product("tote-red", itemGroupId="tote", color="red"),
                 product("belt")])
    assert shop.call("DELETE", f"{CATALOG}/products/tote-red").status_code == 204
    page = shop.client.get(f"{WIDGET}/catalog/products/tote-black", params={"locale": "fr-CH"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["title"], body["description"], body["color"]) == ("Cabas noir", "Cuir", "black")
    assert [(variant["id"], variant["color"]) for variant in body["variants"]] == [("tote-tan", "tan")]
    english = shop.client.get(f"{APP}/catalog/products/tote-black", headers=headers(shop)).json()
    assert english["title"] == "Tote tote-black"
    assert shop.client.get(f"{WIDGET}/catalog/products/belt").json()["variants"] == []
    assert shop.client.get(f"{WIDGET}/catalog/products/tote-red").status_code == 404  # retired
    assert shop.client.get(f"/api/v1/widget/{OTHER}/catalog/products/belt").status_code == 404

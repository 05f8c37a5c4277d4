"""Members keep owned and recommended products; their public profile shows them with the catalog's
current price, in the App and the widget, and hides whoever the directory hides. The lists are
member data: in the member's export, erased with the member."""

from __future__ import annotations

from shared.catalog import member_products
from shared.gdpr import erasure, subject_export
from shared.identity import repository
from shared.identity.models import CommunityVisibility, GeoPoint, Role
from shared.ports.store import PatchOp
from tests.catalog.test_catalog_sync import batch, product
from tests.identity.test_profile_api import add_member, app_headers
from tests.sales.shop import BRAND, OTHER

APP = f"/api/v1/app/{BRAND}"
WIDGET = f"/api/v1/widget/{BRAND}"
LISTS = {"owned": [{"productId": "bag", "note": "I carry it daily"}, {"productId": "belt"}],
         "recommended": [{"productId": "tote"}]}


def member(shop, member_id="m1"):
    return repository.get_member(store=shop.store(), member_id=member_id)[0]


def headers(shop, member_id="m1"):
    return app_headers(shop.container, member(shop, member_id))


def seeded(shop):
    batch(shop, [product("bag", title="Bag"), product("belt", title="Belt"), product("tote", title="Tote")])
    answer = shop.client.put(f"{APP}/me/products", headers=headers(shop), json=LISTS)
    assert answer.status_code == 200, answer.text


def test_a_member_keeps_both_lists_in_their_order(shop):
    seeded(shop)
    mine = shop.client.get(f"{APP}/me/products", headers=headers(shop)).json()
    assert [item["productId"] for item in mine["owned"]] == ["bag", "belt"] and mine["owned"][0]["note"] == (
        "I carry it daily")
    assert shop.client.get(f"{APP}/me/products", headers=headers(shop, "m2")).json() == {
        "owned": [], "recommended": []}  # another member's lists are their own


def test_only_catalog_products_once_per_list_and_at_most_fifty(shop):
    batch(shop, [product("bag")])
    unknown = shop.client.put(f"{APP}/me/products", headers=headers(shop),
                              json={"owned": [{"productId": "bag"}, {"productId": "nowhere"}]})
    assert unknown.status_code == 422 and unknown.json()["errors"] == [
        {"field": "owned.1.productId", "message": "not a product of the catalog"}]
    twice = shop.client.put(f"{APP}/me/products", headers=headers(shop),
                            json={"owned": [{"productId": "bag"}, {"productId": "bag"}]})
    assert twice.status_code == 422
    too_many = shop.client.put(f"{APP}/me/products", headers=headers(shop),
                               json={"recommended": [{"productId": f"p-{n}"} for n in range(51)]})
    assert too_many.status_code == 422
    assert shop.store().find(member_products.MEMBER_PRODUCTS, "m1") is None  # nothing written
    other_brand = batch(shop, [product("their-bag")], brand=OTHER)
    assert other_brand["counts"]["created"] == 1
    theirs = shop.client.put(f"{APP}/me/products", headers=headers(shop), json={"owned": [{"productId": "their-bag"}]})
    assert theirs.status_code == 422  # another brand's product is not in this catalog


def test_the_public_profile_shows_the_products_at_their_current_price_and_drops_retired_ones(shop):
    seeded(shop)
    shop.store().patch("members", "m1", [PatchOp("set", "selfPresentation", "Bags lover"),
                                         PatchOp("set", "location", {"lat": 45.76, "lon": 4.83})])
    seen = shop.client.get(f"{APP}/members/m1/profile", headers=headers(shop, "m2"))
    assert seen.status_code == 200, seen.text
    profile = seen.json()
    assert (profile["displayName"], profile["selfPresentation"]) == ("Ana Lopes", "Bags lover")
    assert [p["productId"] for p in profile["ownedProducts"]] == ["bag", "belt"]
    assert profile["ownedProducts"][0]["note"] == "I carry it daily"
    assert profile["ownedProducts"][0]["pageUrl"] == "https://shop.example/p/bag"  # no social commerce: the brand's
    assert profile["location"] == {"lat": 45.76, "lon": 4.83}
    batch(shop, [product("bag", title="Bag", price={"amountMinor": 3900, "currency": "EUR"})])
    assert shop.call("DELETE", f"/api/v1/integrations/{BRAND}/catalog/products/belt").status_code == 204
    later = shop.client.get(f"{APP}/members/m1/profile", headers=headers(shop, "m2")).json()
    assert [(p["productId"], p["price"]["amountMinor"]) for p in later["ownedProducts"]] == [("bag", 3900)]
    visitor = shop.client.get(f"{WIDGET}/members/m1/profile")
    assert visitor.status_code == 200 and "location" not in visitor.json()
    assert [p["productId"] for p in visitor.json()["recommendedProducts"]] == ["tote"]


def test_a_member_hidden_from_the_community_blocked_or_of_another_brand_has_no_public_profile(shop):
    seeded(shop)
    hidden = member(shop).model_copy(update={"visibility": CommunityVisibility(hide_from_community=True)})
    repository.save(store=shop.store(), container=repository.MEMBERS, model=hidden,
                    etag=shop.store().get("members", "m1")["_etag"])
    assert shop.client.get(f"{APP}/members/m1/profile", headers=headers(shop, "m2")).status_code == 404
    assert shop.client.get(f"{WIDGET}/members/m1/profile").status_code == 404
    assert shop.client.get(f"{WIDGET}/members/mb/profile").status_code == 404  # blocked
    assert shop.client.get(f"{WIDGET}/members/o1/profile").status_code == 404  # the other brand's member
    assert shop.client.get(f"/api/v1/widget/{OTHER}/members/o1/profile").status_code == 200


def test_the_home_store_shows_by_name(shop):
    shop.call("PUT", f"/api/v1/integrations/{BRAND}/stores/lyon-1", body={"id": "lyon-1", "name": "Acme Lyon",
                                                                            "city": "Lyon"})
    add_member(shop.container, member_id="m3", role=Role.VENDOR, home_shop_id="lyon-1",
               location=GeoPoint(lat=45.7, lon=4.8))
    profile = shop.client.get(f"{WIDGET}/members/m3/profile").json()
    assert profile["homeStore"] == {"id": "lyon-1", "name": "Acme Lyon", "city": "Lyon"}


def test_the_lists_are_in_the_export_and_erased_with_the_member(shop):
    seeded(shop)
    store, container = shop.store(), shop.container
    exported = subject_export.member_export(store=store, blobs=container.blobs, member_id="m1", subject_hash="h" * 64,
                                            now=shop.now())
    assert [item["productId"] for item in exported["products"]["owned"]] == ["bag", "belt"]
    erasure.erase_member(store=store, blobs=container.blobs, hasher=container.hasher(BRAND), events=container.events,
                         member_id="m1", now=shop.now(), rule="member_unsubscribed")
    assert store.find(member_products.MEMBER_PRODUCTS, "m1") is None

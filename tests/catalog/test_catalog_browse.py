"""Reading the catalog in the App and the widget: categories with counts, text search, filters, sorts,
pages; every view follows the catalog's syncs, retirements and category moves."""

from __future__ import annotations

import pytest

from tests.catalog.test_catalog_sync import CATALOG, GTIN, batch, product
from tests.catalog.test_member_products import APP, WIDGET, headers
from tests.events.test_dispatcher import drain
from tests.sales.shop import BRAND, OTHER


def categories(shop, lines):
    answer = shop.call("POST", f"{CATALOG}/categories/batch", BRAND, {"categories": lines})
    assert answer.status_code == 200, answer.text
    return answer.json()


def eur(amount):
    return {"amountMinor": amount, "currency": "EUR"}


@pytest.fixture
def catalog(shop):
    categories(shop, [{"id": "women", "name": "Women"}, {"id": "bags", "name": "Bags", "parentId": "women"},
                      {"id": "totes", "name": "Totes", "parentId": "bags"}, {"id": "men", "name": "Men"}])
    batch(shop, [
        product("tote-1", title="Cabas Été", brand="Maison", price=eur(4900), categoryIds=["totes"]),
        product("tote-2", title="Grand cabas", price=eur(9900), salePrice=eur(2900), categoryIds=["totes"],
                availability="out_of_stock"),
        product("clutch", title="Pochette soirée", price=eur(3900), categoryIds=["bags"], gtin=GTIN),
        product("belt", title="Ceinture cuir", price=eur(2500), categoryIds=["men"], mpn="CABAS-1"),
        product("scarf", title="Écharpe", price=eur(1500), mpn="GRAND"),
    ])
    return shop


def listing(shop, audience=WIDGET, **params):
    extra = {"headers": headers(shop)} if audience == APP else {}
    answer = shop.client.get(f"{audience}/catalog/products", params=params, **extra)
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(page):
    return [item["id"] for item in page["items"]]


def test_the_tree_counts_each_categorys_products_with_its_subcategories(catalog):
    tree = catalog.client.get(f"{WIDGET}/catalog/categories").json()

    assert [(node["path"], node["count"]) for node in tree["items"]] == [
        ("Men", 1), ("Women", 3), ("Women > Bags", 3), ("Women > Bags > Totes", 2)]
    assert tree["total"] == 5
    member = catalog.client.get(f"{APP}/catalog/categories", headers=headers(catalog))
    assert member.status_code == 200 and member.json() == tree


def test_browsing_a_category_lists_its_subcategories_products_by_title(catalog):
    assert ids(listing(catalog, categoryId="women")) == ["tote-1", "tote-2", "clutch"]  # cabas ete, grand, pochette
    assert ids(listing(catalog, categoryId="totes", sort="-price")) == ["tote-1", "tote-2"]  # 49.00, then 29.00 on sale
    assert ids(listing(catalog)) == ["tote-1", "belt", "scarf", "tote-2", "clutch"]
    unknown = catalog.client.get(f"{WIDGET}/catalog/products", params={"categoryId": "kids"})
    assert unknown.status_code == 404


def test_text_search_ignores_case_and_accents_and_ranks_codes_then_title_starts(catalog):
    assert ids(listing(catalog, q="CABAS")) == ["tote-1", "belt", "tote-2"]  # "cabas ete" first, then by title
    assert ids(listing(catalog, q="grand")) == ["scarf", "tote-2"]  # the scarf's MPN is exactly the text
    assert ids(listing(catalog, q="ete")) == ["tote-1"]
    assert ids(listing(catalog, q="maison")) == ["tote-1"]  # the brand
    assert ids(listing(catalog, q=GTIN)) == ["clutch"]
    assert ids(listing(catalog, q="cabas", sort="price")) == ["belt", "tote-2", "tote-1"]
    assert ids(listing(catalog, q="zz")) == []
    assert ids(listing(catalog, q="ca", sort="title")) == ["tote-1"]  # two letters: titles starting with them
    assert ids(listing(catalog, q="e")) == ["scarf"]


def test_filters_on_availability_and_a_price_range_in_one_currency(catalog):
    assert ids(listing(catalog, availability="out_of_stock")) == ["tote-2"]
    assert ids(listing(catalog, currency="EUR", minPrice=2000, maxPrice=4000, sort="price")) == [
        "belt", "tote-2", "clutch"]
    assert ids(listing(catalog, currency="USD", minPrice=0)) == []
    no_currency = catalog.client.get(f"{WIDGET}/catalog/products", params={"minPrice": 100})
    assert no_currency.status_code == 422 and no_currency.json()["errors"][0]["field"] == "currency"
    upside_down = catalog.client.get(f"{WIDGET}/catalog/products",
                                     params={"currency": "EUR", "minPrice": 500, "maxPrice": 100})
    assert upside_down.status_code == 422
    bad_sort = catalog.client.get(f"{WIDGET}/catalog/products", params={"sort": "newest"})
    assert bad_sort.status_code == 422


def test_pages_continue_through_the_relevance_groups_without_repeats(catalog):
    seen, continuation = [], None
    while True:
        page = listing(catalog, q="cabas", pageSize=1, **({"continuation": continuation} if continuation else {}))
        seen += ids(page)
        continuation = page["continuation"]
        if continuation is None:
            break
    assert seen == ["tote-1", "belt", "tote-2"]
    other = catalog.client.get(f"{WIDGET}/catalog/products", params={"q": "cuir", "continuation": "bm9wZQ"})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "continuation"


def test_cards_carry_prices_availability_and_the_visitors_language(catalog):
    batch(catalog, [product("scarf", title="Écharpe", price=eur(1500), mpn="GRAND",
                            translations={"en": {"title": "Scarf"}})])
    card = listing(catalog, q="echarpe", locale="en-GB")["items"][0]
    assert (card["title"], card["price"], card["availability"]) == ("Scarf", eur(1500), "in_stock")
    assert ids(listing(catalog, q="scarf")) == ["scarf"]  # translations are searched too


def test_retired_products_leave_every_view_and_the_counts(catalog):
    assert catalog.call("DELETE", f"{CATALOG}/products/tote-1").status_code == 204

    assert ids(listing(catalog, categoryId="women")) == ["tote-2", "clutch"]
    assert ids(listing(catalog, q="maison")) == []
    tree = {node["id"]: node["count"] for node in catalog.client.get(f"{WIDGET}/catalog/categories").json()["items"]}
    assert tree == {"men": 1, "women": 2, "bags": 2, "totes": 1}
    batch(catalog, [product("tote-1", title="Cabas Été", brand="Maison", price=eur(4900), categoryIds=["totes"])])
    assert ids(listing(catalog, q="maison")) == ["tote-1"]  # sent again: back in the views


def test_a_product_changing_category_moves_in_the_counts(catalog):
    batch(catalog, [product("belt", title="Ceinture cuir", price=eur(2500), categoryIds=["bags"], mpn="CABAS-1")])

    tree = {node["id"]: node["count"] for node in catalog.client.get(f"{WIDGET}/catalog/categories").json()["items"]}
    assert tree == {"men": 0, "women": 4, "bags": 4, "totes": 2}


def test_moving_a_category_moves_its_products_once_the_queue_ran(catalog):
    categories(catalog, [{"id": "bags", "name": "Bags", "parentId": "men"}])
    drain(catalog.container)

    assert ids(listing(catalog, categoryId="men")) == ["tote-1", "belt", "tote-2", "clutch"]
    assert ids(listing(catalog, categoryId="women")) == []
    tree = {node["id"]: node["count"] for node in catalog.client.get(f"{WIDGET}/catalog/categories").json()["items"]}
    assert tree == {"men": 4, "women": 0, "bags": 3, "totes": 2}
    drain(catalog.container)  # nothing left: a redelivery would find them right already


def test_a_crash_between_a_batchs_products_and_its_counts_is_repaired_by_the_runs_finish(catalog, monkeypatch):
    from shared.catalog import counts

    run = catalog.call("POST", f"{CATALOG}/sync-runs", BRAND, {}).json()["runId"]

    def crash(**_):
        raise RuntimeError("killed between the products and the counts")

    monkeypatch.setattr(counts, "apply", crash)
    with pytest.raises(RuntimeError):
        catalog.call("POST", f"{CATALOG}/products/batch", BRAND,
                     {"runId": run, "products": [product("hat", title="Chapeau", categoryIds=["men"])]})
    monkeypatch.undo()
    assert ids(listing(catalog, categoryId="men")) == ["belt", "hat"]  # the products are written
    batch(catalog, [product("hat", title="Chapeau", categoryIds=["men"])], run_id=run)  # the platform's retry
    assert catalog.call("POST", f"{CATALOG}/sync-runs/{run}/finish", BRAND, {}).status_code == 200

    tree = {node["id"]: node["count"] for node in catalog.client.get(f"{WIDGET}/catalog/categories").json()["items"]}
    assert tree == {"men": 1, "women": 0, "bags": 0, "totes": 0}  # only the hat was mentioned by the run
    assert catalog.client.get(f"{WIDGET}/catalog/categories").json()["total"] == 1


def test_another_brands_catalog_is_not_readable(catalog):
    assert catalog.client.get(f"/api/v1/widget/{OTHER}/catalog/products", params={"q": "cabas"}).json()["items"] == []
    assert catalog.client.get("/api/v1/widget/nobrand/catalog/products").status_code == 404
    assert catalog.client.get(f"{APP}/catalog/products").status_code == 401

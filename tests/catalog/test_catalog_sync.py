"""The brand platform keeps the catalog in step: batches line by line, content hashes, full sync runs,
single pushes and deletes, categories and stores, as a platform calls them (signed)."""

from __future__ import annotations

import pytest

from shared.catalog import counts, products
from shared.catalog.events import ProductRetired
from tests.events.test_member_events import recorded
from tests.races import in_parallel
from tests.sales.shop import BRAND, OTHER
from tests.sales.test_store_vouchers import presigned

CATALOG = f"/api/v1/integrations/{BRAND}/catalog"
GTIN = "4006381333931"  # a valid EAN-13


def product(product_id="p-1", **fields):
    return {"id": product_id, "title": f"Tote {product_id}", "link": f"https://shop.example/p/{product_id}",
            "imageLink": f"https://cdn.example/{product_id}.jpg", "availability": "in_stock",
            "price": {"amountMinor": 4900, "currency": "EUR"}, **fields}


def batch(shop, lines, run_id=None, brand=BRAND):
    body = {"products": lines} | ({"runId": run_id} if run_id else {})
    answer = shop.call("POST", f"/api/v1/integrations/{brand}/catalog/products/batch", brand, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def outcomes(result):
    return [line["outcome"] for line in result["results"]]


def stored(shop, product_id, brand=BRAND):
    return shop.store(brand).get(products.PRODUCTS, product_id)


def test_a_batch_creates_a_repeat_changes_nothing_and_a_changed_field_updates_only_its_product(shop):
    first = batch(shop, [product("p-1"), product("p-2"), product("p-3")])
    assert outcomes(first) == ["created"] * 3 and first["counts"]["created"] == 3
    etags = {pid: stored(shop, pid)["_etag"] for pid in ("p-1", "p-2", "p-3")}
    again = batch(shop, [product("p-1"), product("p-2"), product("p-3")])
    assert outcomes(again) == ["unchanged"] * 3
    assert {pid: stored(shop, pid)["_etag"] for pid in etags} == etags  # nothing written
    changed = batch(shop, [product("p-1"), product("p-2", availability="out_of_stock"), product("p-3")])
    assert outcomes(changed) == ["unchanged", "updated", "unchanged"]
    assert stored(shop, "p-2")["availability"] == "out_of_stock"
    assert stored(shop, "p-1")["_etag"] == etags["p-1"] and stored(shop, "p-2")["_etag"] != etags["p-2"]


@pytest.mark.parametrize(("line", "field"), [
    (product(price={"amountMinor": -1, "currency": "EUR"}), "price.amountMinor"),
    (product(salePrice={"amountMinor": 100, "currency": "USD"}), "body"),
    (product(salePrice={"amountMinor": 9900, "currency": "EUR"}), "body"),
    ({k: v for k, v in product().items() if k != "id"}, "id"),
    (product("gid://shopify/Product/1"), "id"),  # a slash can be neither a document id nor a URL segment
    (product(imageLink="http://cdn.example/p.jpg"), "imageLink"),
    (product(link="javascript:alert(1)"), "link"),
    (product(gtin="4006381333932"), "gtin"),
    (product(availability="sold"), "availability"),
    (product(categoryIds=["nowhere"]), "categoryIds"),
    (product(translations={"french": {"title": "Sac"}}), "translations"),
    (product(colour="red"), "colour"),
])
def test_a_bad_line_is_rejected_with_its_field_and_the_others_go_through(shop, line, field):
    result = batch(shop, [product("ok-1"), line, product("ok-2")])
    assert outcomes(result) == ["created", "rejected", "created"], result
    assert [error["field"] for error in result["results"][1]["errors"]] == [field]
    assert sorted(doc["id"] for doc in shop.store().query_all(products.PRODUCTS)) == ["ok-1", "ok-2"]


def test_a_rejection_never_quotes_the_input_back(shop):
    result = batch(shop, [product(title="x" * 151 + "SECRET")])
    assert "SECRET" not in str(result)


def test_the_same_id_twice_in_one_batch_keeps_the_first(shop):
    result = batch(shop, [product("p-1"), product("p-1", title="Other")])
    assert outcomes(result) == ["created", "rejected"]
    assert stored(shop, "p-1")["title"] == "Tote p-1"


def test_more_than_the_limit_in_one_request_is_refused_whole(shop):
    answer = shop.call("POST", f"{CATALOG}/products/batch",
                       body={"products": [product(f"p-{n}") for n in range(products.MAX_BATCH + 1)]})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "products"
    assert shop.store().query_all(products.PRODUCTS) == []


def test_a_brand_reads_and_writes_only_its_own_catalog(shop):
    batch(shop, [product("p-1")])
    assert shop.call("GET", f"/api/v1/integrations/{OTHER}/catalog/products/p-1", OTHER).status_code == 404
    assert shop.call("GET", f"{CATALOG}/products/p-1").json()["title"] == "Tote p-1"
    unsigned = shop.client.get(f"{CATALOG}/products/p-1")
    assert unsigned.status_code == 401


def test_parallel_identical_batches_create_each_product_once(shop):
    lines = [product(f"p-{n}") for n in range(20)]
    requests = presigned(shop, f"{CATALOG}/products/batch", [{"products": lines}] * 4)
    answers = in_parallel(4, lambda: shop.client.post(f"{CATALOG}/products/batch", **requests.pop()))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    created = [outcome for answer in answers for outcome in outcomes(answer.json())]
    assert created.count("created") == 20 and set(created) <= {"created", "unchanged"}
    assert len(shop.store().query_all(products.PRODUCTS)) == 20
    assert counts.read(store=shop.store())[counts.TOTAL] == 20  # each product counted once


def test_a_full_sync_run_retires_what_it_did_not_mention_and_finishing_again_changes_nothing(shop, container):
    batch(shop, [product("keep-1"), product("keep-2"), product("gone-1"), product("gone-2")])
    seen = recorded(container, ProductRetired)
    run = shop.call("POST", f"{CATALOG}/sync-runs").json()
    batch(shop, [product("keep-1")], run_id=run["runId"])
    batch(shop, [product("keep-2"), product("new-1")], run_id=run["runId"])
    batch(shop, [product("keep-2"), product("new-1")], run_id=run["runId"])  # a batch sent twice
    finished = shop.call("POST", f"{CATALOG}/sync-runs/{run['runId']}/finish")
    assert finished.status_code == 200, finished.text
    assert finished.json()["report"] == {"runId": run["runId"], "mentioned": 3, "retired": 2}
    assert {doc["id"]: doc["status"] for doc in shop.store().query_all(products.PRODUCTS)} == {
        "keep-1": "active", "keep-2": "active", "new-1": "active", "gone-1": "retired", "gone-2": "retired"}
    assert sorted(event.product_id for event in seen) == ["gone-1", "gone-2"]
    again = shop.call("POST", f"{CATALOG}/sync-runs/{run['runId']}/finish")
    assert again.json()["report"] == finished.json()["report"] and len(seen) == 2
    late = shop.call("POST", f"{CATALOG}/products/batch", body={"products": [product("x")], "runId": run["runId"]})
    assert late.status_code == 409 and late.json()["type"].endswith("/sync-run-finished")


def test_a_run_that_mentioned_nothing_cannot_retire_the_catalog(shop):
    batch(shop, [product("p-1")])
    run = shop.call("POST", f"{CATALOG}/sync-runs").json()
    empty = shop.call("POST", f"{CATALOG}/sync-runs/{run['runId']}/finish")
    assert empty.status_code == 409 and empty.json()["type"].endswith("/sync-run-empty")
    assert stored(shop, "p-1")["status"] == "active"
    assert shop.call("POST", f"{CATALOG}/sync-runs/{'0' * 32}/finish").status_code == 404


def test_a_finish_cut_short_is_completed_by_the_next_with_the_whole_count(shop, monkeypatch):
    batch(shop, [product("keep"), *[product(f"gone-{n}") for n in range(4)]])
    run = shop.call("POST", f"{CATALOG}/sync-runs").json()
    batch(shop, [product("keep")], run_id=run["runId"])
    real = products.retire
    calls = []

    def crash_on_third(**kwargs):
        calls.append(kwargs["product_id"])
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(**kwargs)

    monkeypatch.setattr(products, "retire", crash_on_third)
    with pytest.raises(RuntimeError):
        shop.call("POST", f"{CATALOG}/sync-runs/{run['runId']}/finish")
    monkeypatch.setattr(products, "retire", real)
    finished = shop.call("POST", f"{CATALOG}/sync-runs/{run['runId']}/finish")
    assert finished.json()["report"]["retired"] == 4
    assert [doc["id"] for doc in shop.store().query_all(products.PRODUCTS) if doc["status"] == "active"] == ["keep"]


def test_a_single_push_creates_then_updates_and_a_delete_retires_until_sent_again(shop, container):
    path = f"{CATALOG}/products/p-9"
    created = shop.call("PUT", path, body=product("p-9", gtin=GTIN))
    assert created.status_code == 201 and created.json()["status"] == "active"
    assert shop.call("PUT", path, body=product("p-9", gtin=GTIN, title="Tote XL")).status_code == 200
    wrong_id = shop.call("PUT", path, body=product("p-10"))
    assert wrong_id.status_code == 422 and wrong_id.json()["errors"][0]["field"] == "id"
    seen = recorded(container, ProductRetired)
    assert shop.call("DELETE", path).status_code == 204
    assert shop.call("DELETE", path).status_code == 204  # again: the same event id, nothing new
    assert len({event.id for event in seen}) == 1
    gone = shop.call("GET", path).json()
    assert (gone["status"], gone["title"]) == ("retired", "Tote XL")  # the last title stays
    back = batch(shop, [product("p-9", gtin=GTIN, title="Tote XL")])
    assert outcomes(back) == ["updated"] and stored(shop, "p-9")["status"] == "active"
    assert shop.call("DELETE", f"{CATALOG}/products/never").status_code == 404


def test_categories_form_a_tree_with_paths_and_products_name_them(shop):
    result = shop.call("POST", f"{CATALOG}/categories/batch", body={"categories": [
        {"id": "women", "name": "Women"}, {"id": "bags", "name": "Bags", "parentId": "women"},
        {"id": "totes", "name": "Totes", "parentId": "bags", "order": 2},
        {"id": "clutches", "name": "Clutches", "parentId": "bags", "order": 1},
        {"id": "orphan", "name": "Orphan", "parentId": "nowhere"}]}).json()
    assert outcomes(result) == ["created"] * 4 + ["rejected"]
    tree = shop.call("GET", f"{CATALOG}/categories").json()["items"]
    assert [(node["id"], node["path"], node["depth"]) for node in tree] == [
        ("women", "Women", 0), ("bags", "Women > Bags", 1), ("clutches", "Women > Bags > Clutches", 2),
        ("totes", "Women > Bags > Totes", 2)]
    assert outcomes(batch(shop, [product("p-1", categoryIds=["totes", "women"])])) == ["created"]


def test_moving_a_category_repaths_its_subtree_and_a_cycle_is_refused(shop):
    shop.call("POST", f"{CATALOG}/categories/batch", body={"categories": [
        {"id": "women", "name": "Women"}, {"id": "men", "name": "Men"},
        {"id": "bags", "name": "Bags", "parentId": "women"}, {"id": "totes", "name": "Totes", "parentId": "bags"}]})
    moved = shop.call("POST", f"{CATALOG}/categories/batch", body={"categories": [
        {"id": "bags", "name": "Bags", "parentId": "men"}, {"id": "men", "name": "Men", "parentId": "totes"}]}).json()
    assert outcomes(moved) == ["updated", "rejected"]
    paths = {node["id"]: node["path"] for node in shop.call("GET", f"{CATALOG}/categories").json()["items"]}
    assert paths["totes"] == "Men > Bags > Totes" and paths["men"] == "Men"
    assert shop.call("DELETE", f"{CATALOG}/categories/bags").status_code == 409  # it has a child
    assert shop.call("DELETE", f"{CATALOG}/categories/totes").status_code == 204
    assert shop.call("DELETE", f"{CATALOG}/categories/totes").status_code == 404


def test_parallel_category_batches_both_land(shop):
    bodies = [{"categories": [{"id": f"c-{n}", "name": f"C {n}"}]} for n in range(4)]
    requests = presigned(shop, f"{CATALOG}/categories/batch", bodies)
    answers = in_parallel(4, lambda: shop.client.post(f"{CATALOG}/categories/batch", **requests.pop()))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert sorted(node["id"] for node in shop.call("GET", f"{CATALOG}/categories").json()["items"]) == [
        "c-0", "c-1", "c-2", "c-3"]


def test_stores_are_created_updated_and_removed(shop):
    path = f"/api/v1/integrations/{BRAND}/stores/lyon-1"
    store = {"id": "lyon-1", "name": "Acme Lyon", "city": "Lyon", "postalCode": "69002", "country": "FR",
             "location": {"lat": 45.76, "lon": 4.83}}
    assert shop.call("PUT", path, body=store).status_code == 201
    assert shop.call("PUT", path, body=store | {"status": "temporarily_closed"}).json()["status"] == (
        "temporarily_closed")
    result = shop.call("POST", f"/api/v1/integrations/{BRAND}/stores/batch", body={"stores": [
        store | {"status": "temporarily_closed"}, {"id": "paris-1", "name": "Acme Paris", "city": "Paris"},
        {"id": "bad", "country": "France"}]})
    assert outcomes(result.json()) == ["unchanged", "created", "rejected"]
    assert shop.call("DELETE", path).status_code == 204 and shop.call("DELETE", path).status_code == 404


def test_a_resent_line_is_checked_again_when_its_category_has_gone(shop):
    shop.call("POST", f"{CATALOG}/categories/batch", body={"categories": [{"id": "bags", "name": "Bags"}]})
    line = product("p-1", categoryIds=["bags"])
    assert outcomes(batch(shop, [line])) == ["created"]
    assert outcomes(batch(shop, [dict(reversed(list(line.items())))])) == ["unchanged"]  # key order aside
    assert shop.call("DELETE", f"{CATALOG}/categories/bags").status_code == 204
    again = batch(shop, [line])
    assert outcomes(again) == ["rejected"] and again["results"][0]["errors"][0]["field"] == "categoryIds"


def test_a_line_that_is_not_an_object_is_rejected_alone(shop):
    result = batch(shop, [product("p-1"), "p-2", None])
    assert outcomes(result) == ["created", "rejected", "rejected"]
    assert [line["id"] for line in result["results"]] == ["p-1", None, None]

"""Orders: once per order id, refunds and cancels reversing counters and commission, the CRM, no clear customer id."""

from __future__ import annotations

import json
import threading

from shared.sales import orders
from shared.sales.models import OrderCreate
from shared.store_schema import PLATFORM_SCOPE
from tests.sales.shop import BRAND


def _attributed(shop, **fields):
    shop.link()
    response = shop.order(attributionRef=shop.ref(), **fields)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_order_posted_twice_is_counted_once(shop):
    shop.link()
    ref = shop.ref()
    body = {"attributionRef": ref, "placedAt": shop.now_text()}
    first, again = shop.order(**body), shop.order(**body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and first.json()["commissionMinor"] == 1000
    totals = shop.counters_of("m1")
    assert (totals["orders"], totals["salesMinor"], totals["commissionMinor"]) == (1, {"EUR": 10000}, {"EUR": 1000})
    assert shop.counters_of("*")["orders"] == 1  # the brand roll-up too
    assert [(e["memberId"], e["amountMinor"], e["state"]) for e in shop.ledger()] == [("m1", 1000, "pending")]


def test_the_same_id_with_another_body_is_a_conflict(shop):
    placed = shop.now_text()
    assert shop.order(placedAt=placed).status_code == 201
    changed = shop.order(placedAt=placed, amountMinor=5000, lines=[{"sku": "S1", "quantity": 1, "amountMinor": 5000}])
    assert changed.status_code == 409 and changed.json()["type"].endswith("/order-conflict")


def test_concurrent_duplicates_count_once(shop):
    shop.link()
    data = OrderCreate.model_validate({
        "orderId": "o-9", "channel": "online", "placedAt": shop.now_text(), "currency": "EUR", "amountMinor": 500,
        "lines": [{"sku": "S", "quantity": 1, "amountMinor": 500}], "attributionRef": shop.ref()})
    brand = shop.container.store.for_brand(PLATFORM_SCOPE)
    from shared.brands import service as brands

    results = []

    def post():
        results.append(orders.place(store=shop.store(), platform=brand, brand=brands.get(
            store=shop.container.store, brand_id=BRAND), hasher=shop.container.hasher(BRAND),
            master_key=shop.container.settings.hash_master_key, events=shop.container.events, data=data,
            now=shop.now())[1])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert shop.counters_of("m1")["orders"] == 1 and len(shop.ledger()) == 1


def test_lines_must_add_up_and_nothing_is_written_otherwise(shop):
    response = shop.order(amountMinor=9999)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lines"
    bad_customer = shop.order(customer={"email": "not-an-email"})
    assert bad_customer.status_code == 422
    assert shop.store().query_all("orders") == [] and shop.ledger() == []


def test_a_partial_refund_reduces_and_a_full_refund_reverses(shop):
    _attributed(shop)
    refunds = f"{shop.order_path()}/refunds"
    partial = shop.call("POST", refunds, body={"refundId": "r-1", "amountMinor": 2500})
    assert partial.status_code == 200 and partial.json()["commissionMinor"] == 750
    assert shop.call("POST", refunds, body={"refundId": "r-1", "amountMinor": 2500}).json() == partial.json()
    assert shop.call("POST", refunds, body={"refundId": "r-1", "amountMinor": 100}).status_code == 409
    assert shop.call("POST", refunds, body={"refundId": "r-2", "amountMinor": 9000}).status_code == 422
    assert [(e["amountMinor"], e["state"]) for e in shop.ledger()] == [(750, "pending")]

    full = shop.call("POST", refunds, body={"refundId": "r-2", "amountMinor": 7500})
    assert full.json()["status"] == "refunded" and full.json()["commissionMinor"] == 0
    assert [e["state"] for e in shop.ledger()] == ["reversed"]
    totals = shop.counters_of("m1")
    assert (totals["orders"], totals["refunds"], totals["salesMinor"], totals["commissionMinor"]) == (
        0, 2, {"EUR": 0}, {"EUR": 0})


def test_a_refund_of_a_paid_commission_is_clawed_back(shop):
    _attributed(shop)
    entry_id = shop.ledger()[0]["id"]
    base = f"/api/v1/manager/brands/{BRAND}/commissions"
    assert shop.client.post(f"{base}/approve", json={"entryIds": [entry_id]},
                            headers=shop.manager("editor")).status_code == 200
    assert shop.client.post(f"{base}/mark-paid", json={"entryIds": [entry_id]},
                            headers=shop.manager("admin")).status_code == 200
    shop.call("POST", f"{shop.order_path()}/refunds", body={"refundId": "r-1", "amountMinor": 4000})
    cancelled = shop.call("POST", f"{shop.order_path()}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    entries = {e["id"]: (e["kind"], e["amountMinor"], e["state"]) for e in shop.ledger()}
    assert entries == {"o-1:commission": ("commission", 1000, "paid"),
                       "o-1:r:r-1": ("clawback", -400, "reversed"),  # replaced by the cancel's clawback
                       "o-1:x": ("clawback", -1000, "pending")}
    assert shop.call("POST", f"{shop.order_path()}/cancel").json() == cancelled.json()
    assert shop.call("POST", f"{shop.order_path()}/refunds",
                     body={"refundId": "r-9", "amountMinor": 1}).status_code == 409
    totals = shop.counters_of("m1")
    assert (totals["orders"], totals["salesMinor"], totals["commissionMinor"]) == (0, {"EUR": 0}, {"EUR": 0})


def test_an_update_recomputes_a_pending_commission_and_adjusts_an_approved_one(shop):
    _attributed(shop)
    path = shop.order_path()
    bigger = {"amountMinor": 20000, "lines": [{"sku": "S1", "quantity": 2, "amountMinor": 20000}]}
    assert shop.call("PUT", path, body=bigger).json()["commissionMinor"] == 2000
    assert shop.call("PUT", path, body=bigger).status_code == 200  # the same update again changes nothing
    assert [(e["amountMinor"], e["state"]) for e in shop.ledger()] == [(2000, "pending")]

    shop.client.post(f"/api/v1/manager/brands/{BRAND}/commissions/approve",
                     json={"entryIds": ["o-1:commission"]}, headers=shop.manager("editor"))
    smaller = {"amountMinor": 5000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 5000}]}
    assert shop.call("PUT", path, body=smaller).json()["commissionMinor"] == 500
    entries = {e["id"]: (e["kind"], e["amountMinor"], e["state"]) for e in shop.ledger()}
    assert entries == {"o-1:commission": ("commission", 2000, "approved"), "o-1:u2": ("clawback", -1500, "pending")}
    totals = shop.counters_of("m1")
    assert (totals["orders"], totals["salesMinor"], totals["commissionMinor"]) == (1, {"EUR": 5000}, {"EUR": 500})
    assert shop.call("PUT", path, body={**smaller, "amountMinor": 1}).status_code == 422
    assert shop.call("PUT", shop.order_path("nope"), body=smaller).status_code == 404


def test_an_unattributed_order_counts_nothing_and_earns_nothing(shop):
    response = shop.order(customerKey="C-1", customer={"email": "zoe@example.com"})
    assert response.status_code == 201 and response.json()["attribution"]["reason"] == "none"
    assert response.json()["commissionMinor"] == 0 and response.json()["contactId"] is None
    assert shop.ledger() == [] and shop.store().query_all("contacts") == []
    assert shop.counters_of("*")["orders"] == 0


def test_an_attributed_order_with_customer_details_creates_the_members_contact(shop):
    order = _attributed(shop, customer={"email": "Zoe@Example.com", "firstName": "Zoe"}, brandOptIn=True)
    contact = shop.store().get("contacts", order["contactId"])
    assert contact["memberId"] == "m1" and contact["history"]["createdBy"] == "order"
    assert (contact["memberOptIn"], contact["brandOptIn"]) == ("opt_in_order", "brand_database")
    assert "zoe" not in json.dumps(shop.store().get("orders", "o-1")).lower()  # details live in the CRM only


def test_no_clear_customer_or_visitor_id_is_stored(shop):
    shop.visit(member="m1", at=shop.now(), customer_id="CUST-SECRET-42")
    path = f"/api/v1/integrations/{BRAND}/customers/CUST-SECRET-42/dedicated-member"
    assert shop.call("PUT", path, body={"memberId": "m2"}).status_code == 200
    assert shop.order(customerKey="CUST-SECRET-42", visitorId="TMP-SECRET-7").status_code == 201
    stored = json.dumps([shop.store().query_all(name) for name in
                         ("orders", "commissions", "dedicated_members", "tracking_events", "tracking_counters")])
    assert "CUST-SECRET-42" not in stored and "TMP-SECRET-7" not in stored
    order = shop.store().get("orders", "o-1")
    assert order["customerKey"] == shop.container.hasher(BRAND)("customer_id", "CUST-SECRET-42")


def test_the_manager_and_the_platform_read_the_order_with_its_explanation(shop):
    created = _attributed(shop)
    platform_read = shop.call("GET", shop.order_path())
    assert platform_read.status_code == 200 and platform_read.json() == created
    manager_read = shop.client.get(f"/api/v1/manager/brands/{BRAND}/orders/o-1", headers=shop.manager("viewer"))
    assert manager_read.json()["attribution"]["explanation"]["clickId"] == "click0001"
    assert shop.client.get("/api/v1/manager/brands/other/orders/o-1",
                           headers=shop.manager("viewer")).status_code == 404


def test_refunds_arriving_at_the_same_moment_leave_the_ledger_equal_to_what_is_due(shop, monkeypatch):
    """Two refunds of one order at once, after the Manager approved its commission (so each change
    adds an entry). Reading a ledger entry waits (up to a second) for the other call to read too: two
    settlements computing from the same ledger would write two adjustments against one state."""
    from shared.sales import ledger
    from shared.sales.models import RefundCreate

    _attributed(shop)
    entry_id = shop.ledger()[0]["id"]
    approved = shop.client.post(f"/api/v1/manager/brands/{BRAND}/commissions/approve",
                                json={"entryIds": [entry_id]}, headers=shop.manager("editor"))
    assert approved.status_code == 200
    both_read = threading.Barrier(2, timeout=1)
    real_get = ledger.get

    def get_then_wait(*, store, entry_id):
        found = real_get(store=store, entry_id=entry_id)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass  # the other call never read at the same time: what we want
        return found

    monkeypatch.setattr(ledger, "get", get_then_wait)
    failures = []

    from shared.brands import service as brands

    brand = brands.get(store=shop.container.store, brand_id=BRAND)

    def refund(refund_id):
        try:
            orders.refund(store=shop.store(), brand=brand, events=shop.container.events, order_id="o-1", now=shop.now(),
                          data=RefundCreate.model_validate({"refundId": refund_id, "amountMinor": 1000}))
        except Exception as exc:  # noqa: BLE001 - reported below, with the failing refund
            failures.append((refund_id, exc))

    threads = [threading.Thread(target=refund, args=(f"r-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    order = shop.store().get("orders", "o-1")
    assert order["refundedMinor"] == 2000 and order["commissionMinor"] == 800
    assert "ledgerLock" not in order
    live = [entry["amountMinor"] for entry in shop.ledger() if entry["state"] != "reversed"]
    assert sum(live) == 800

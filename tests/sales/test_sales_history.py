"""A contact's sales history (guide v4: "Online orders or store purchase made following a Member's publication").

An order attributed to a member that creates or matches their contact puts one line in it: the
order's reference, date and amount (never the products, which stay in the Manager), kept in step
with the order's updates, refunds and cancel, once whatever the re-posts and races. Crashes at every
write are in tests/sales/test_order_crashes.py, store purchases in tests/sales/test_store_vouchers.py.
"""

from __future__ import annotations

from datetime import timedelta

from tests.races import in_parallel
from tests.sales.shop import BRAND
from tests.sales.test_store_vouchers import member, presigned, sales_of

CUSTOMER = {"email": "zoe@example.com", "firstName": "Zoe"}
ORDERS = f"/api/v1/integrations/{BRAND}/orders"


def order(shop, order_id="o-1", amount=10000, **extra):
    return shop.order(orderId=order_id, attributionRef=shop.ref(), customer=CUSTOMER, brandOptIn=True,
                      amountMinor=amount, lines=[{"sku": "S1", "quantity": 1, "amountMinor": amount}], **extra)


def test_an_order_that_creates_the_contact_puts_its_date_and_amount_in_the_history(shop):
    shop.link()
    placed = order(shop)
    assert placed.status_code == 201, placed.text
    contact_id = placed.json()["contactId"]
    assert sales_of(shop, contact_id) == [{"reference": "o-1", "at": placed.json()["placedAt"],
                                           "amountMinor": 10000, "currency": "EUR", "refundedMinor": 0,
                                           "status": "placed"}]
    # The brand sees it too (the contact has a brand opt-in); the products are in the order, not here.
    seen = shop.client.get(f"/api/v1/manager/brands/{BRAND}/contacts/{contact_id}", headers=shop.manager("viewer"))
    assert seen.status_code == 200 and [line["reference"] for line in seen.json()["sales"]] == ["o-1"]
    assert "S1" not in str(seen.json()["sales"])


def test_an_order_matching_a_contact_already_there_adds_its_own_line(shop):
    shop.link()
    first = order(shop).json()
    shop.container.clock.advance(timedelta(days=3))
    second = order(shop, order_id="o-2", amount=2500).json()
    assert first["contactId"] == second["contactId"]
    assert [(line["reference"], line["amountMinor"]) for line in sales_of(shop, first["contactId"])] == [
        ("o-1", 10000), ("o-2", 2500)]


def test_updates_refunds_and_the_cancel_follow_on_the_orders_line(shop):
    shop.link()
    contact_id = order(shop).json()["contactId"]
    updated = shop.call("PUT", shop.order_path(), body={
        "amountMinor": 12000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 12000}]})
    assert updated.status_code == 200, updated.text
    assert shop.call("POST", shop.order_path() + "/refunds", body={"refundId": "r-1", "amountMinor": 2000}
                     ).status_code == 200
    [line] = sales_of(shop, contact_id)
    assert (line["amountMinor"], line["refundedMinor"], line["status"]) == (12000, 2000, "placed")
    assert shop.call("POST", shop.order_path() + "/cancel").status_code == 200
    [line] = sales_of(shop, contact_id)
    assert (line["reference"], line["status"]) == ("o-1", "cancelled")


def test_re_posts_and_parallel_posts_leave_one_line(shop):
    shop.link()
    body = {"orderId": "o-1", "channel": "online", "placedAt": shop.now_text(), "currency": "EUR",
            "amountMinor": 10000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 10000}],
            "attributionRef": shop.ref(), "customer": CUSTOMER, "brandOptIn": True}
    requests = presigned(shop, ORDERS, [body] * 8)
    answers = in_parallel(8, lambda: shop.client.post(ORDERS, **requests.pop()))
    assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201], [a.text for a in answers]
    again = shop.call("POST", ORDERS, body=body)
    assert again.status_code == 200
    assert [line["reference"] for line in sales_of(shop, again.json()["contactId"])] == ["o-1"]


def test_parallel_refunds_leave_the_line_at_the_orders_last_state(shop):
    shop.link()
    contact_id = order(shop).json()["contactId"]
    requests = presigned(shop, f"{ORDERS}/o-1/refunds",
                         [{"refundId": f"r-{n}", "amountMinor": 1000} for n in range(5)])
    answers = in_parallel(5, lambda: shop.client.post(f"{ORDERS}/o-1/refunds", **requests.pop()))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    [line] = sales_of(shop, contact_id)
    assert line["refundedMinor"] == 5000 == shop.store().get("orders", "o-1")["refundedMinor"]


def test_a_contact_erased_since_keeps_its_history_and_the_order_still_changes(shop):
    shop.link()
    contact_id = order(shop).json()["contactId"]
    assert shop.client.delete(f"/api/v1/app/{BRAND}/contacts/{contact_id}", headers=member(shop)).status_code == 204
    refunded = shop.call("POST", shop.order_path() + "/refunds", body={"refundId": "r-1", "amountMinor": 500})
    assert refunded.status_code == 200, refunded.text
    erased = shop.store().get("contacts", contact_id)
    assert erased["status"] == "erased" and [line["refundedMinor"] for line in erased["sales"]] == [0]

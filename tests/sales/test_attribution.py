"""Attribution through the order endpoint: each reason, the window's exact edge, forged and foreign references."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.crm import vouchers
from shared.sales import conversations
from shared.sales.conversations import ConversationHit
from tests.sales.shop import BRAND, OTHER
from tests.sales.test_store_vouchers import voucher_for

WINDOW = timedelta(days=180)


def _attribution(response):
    assert response.status_code in (200, 201), response.text
    return response.json()["attribution"]


@pytest.mark.parametrize(("clicked_before", "expected_member", "expected_reason"), [
    (timedelta(days=3), "m1", "last_click"),
    (WINDOW, "m1", "last_click"),  # exactly at the window's start: still in
    (WINDOW + timedelta(seconds=1), None, "none"),  # one second older: out
    (-timedelta(seconds=1), None, "none"),  # a click after the order never counts
])
def test_a_referenced_click_attributes_only_within_the_window(shop, clicked_before, expected_member,
                                                              expected_reason):
    placed = shop.now()
    shop.link()
    ref = shop.ref(clicked_at=placed - clicked_before)
    attribution = _attribution(shop.order(attributionRef=ref, placedAt=shop.now_text(placed)))
    assert (attribution["memberId"], attribution["reason"]) == (expected_member, expected_reason)
    if expected_member:
        explanation = attribution["explanation"]
        assert explanation["code"] == "AbCd1234" and explanation["windowDays"] == 180
        assert explanation["via"] == "attribution_ref" and explanation["linkStatus"] == "active"
        assert (attribution["source"], attribution["targetKind"]) == ("email", "product")


def test_the_window_is_the_brand_setting(shop):
    updated = shop.client.patch(f"/api/v1/manager/brands/{BRAND}", json={"attributionWindowDays": 7},
                                headers=shop.manager("admin"))
    assert updated.status_code == 200, updated.text
    shop.link()
    ref = shop.ref(clicked_at=shop.now() - timedelta(days=7, seconds=1))
    assert _attribution(shop.order(attributionRef=ref))["reason"] == "none"


@pytest.mark.parametrize("tamper", ["forged", "other_brand", "unknown_code", "garbage"])
def test_a_reference_that_does_not_verify_attributes_nothing(shop, tamper):
    shop.link()
    ref = {
        "forged": shop.ref()[:-1] + ("0" if shop.ref()[-1] != "0" else "1"),
        "other_brand": shop.ref(brand=OTHER),
        "unknown_code": shop.ref(code="Zz999999"),
        "garbage": "not-a-reference",
    }[tamper]
    attribution = _attribution(shop.order(attributionRef=ref))
    assert (attribution["memberId"], attribution["reason"]) == (None, "none")
    assert attribution["explanation"]["notes"][0]["skipped"] == "attribution-ref-invalid"


def test_a_link_disabled_since_the_click_still_attributes(shop):
    shop.link(status="disabled")
    attribution = _attribution(shop.order(attributionRef=shop.ref()))
    assert attribution["reason"] == "last_click" and attribution["explanation"]["linkStatus"] == "disabled"


def test_a_blocked_member_earns_nothing_and_the_next_rule_is_tried(shop):
    shop.link(member="mb")
    shop.visit(member="m2", at=shop.now() - timedelta(days=1), customer_id="C-7")
    attribution = _attribution(shop.order(attributionRef=shop.ref(), customerKey="C-7"))
    assert (attribution["memberId"], attribution["reason"]) == ("m2", "last_click")
    assert attribution["explanation"]["via"] == "visit"
    assert attribution["explanation"]["notes"] == [
        {"rule": "last_click", "memberId": "mb", "skipped": "member-not-active"}]


@pytest.mark.parametrize(("key_field", "visit_kwargs", "keyed_by"), [
    ("customerKey", {"customer_id": "C-7"}, "customer"),
    ("visitorId", {"visitor_id": "tmp-123"}, "visitor"),
])
def test_without_a_reference_the_latest_visit_of_the_key_attributes(shop, key_field, visit_kwargs, keyed_by):
    now = shop.now()
    shop.visit(member="m1", at=now - timedelta(days=10), **visit_kwargs)
    shop.visit(member="m2", at=now - timedelta(days=2), code="Other123", **visit_kwargs)
    attribution = _attribution(shop.order(**{key_field: visit_kwargs.popitem()[1]}))
    assert (attribution["memberId"], attribution["reason"], attribution["source"]) == ("m2", "last_click", "facebook")
    assert attribution["explanation"]["keyedBy"] == keyed_by


def test_a_visit_older_than_the_window_attributes_nothing(shop):
    shop.visit(member="m1", at=shop.now() - WINDOW - timedelta(seconds=1), customer_id="C-7")
    assert _attribution(shop.order(customerKey="C-7"))["reason"] == "none"


def test_a_vendor_sale_goes_to_the_vendor_before_any_click(shop):
    shop.link(member="m2")
    attribution = _attribution(shop.order(channel="phygital", vendor={"memberId": "m1"}, attributionRef=shop.ref()))
    assert (attribution["memberId"], attribution["reason"]) == ("m1", "vendor")
    assert (attribution["source"], attribution["targetKind"]) == ("none", "none")


def test_an_unknown_vendor_is_refused_and_nothing_is_written(shop):
    response = shop.order(channel="phygital", vendor={"memberId": "ghost"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "vendor"
    assert shop.store().find("orders", "o-1") is None


def test_an_in_store_purchase_with_a_voucher_goes_to_its_contact_member_before_any_click(shop):
    _, code = voucher_for(shop)  # m1's voucher for their contact
    shop.link(member="m2")
    attribution = _attribution(shop.order(channel="in_store", voucherCode=code, attributionRef=shop.ref()))
    assert (attribution["memberId"], attribution["reason"]) == ("m1", "voucher")
    assert attribution["explanation"]["voucherId"] == vouchers.voucher_id(shop.container.hasher(BRAND), code)
    unknown = shop.order(orderId="o-2", channel="in_store", voucherCode="VOUCH-9")
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/voucher-not-found")
    assert shop.store().find("orders", "o-2") is None


def test_a_conversation_within_the_window_attributes_through_a_registered_lookup(shop):
    now = shop.now()
    hasher = shop.container.hasher(BRAND)
    seen = []

    def lookup(store, keys, since, until):
        seen.append((store.brand_id, tuple(keys)))
        return ConversationHit(member_id="m1", at=now - timedelta(days=5), conversation_id="conv-1")

    conversations.register("test", lookup)
    try:
        attribution = _attribution(shop.order(customerKey="C-7"))
    finally:
        conversations.unregister("test")
    assert (attribution["memberId"], attribution["reason"]) == ("m1", "conversation")
    assert attribution["explanation"]["conversationId"] == "conv-1"
    assert seen == [(BRAND, (hasher("customer_id", "C-7"),))]  # lookups get keyed hashes only


def test_the_dedicated_member_comes_last_and_can_be_removed(shop):
    path = f"/api/v1/integrations/{BRAND}/customers/C-7/dedicated-member"
    assert shop.call("PUT", path, body={"memberId": "mb"}).status_code == 409  # not active
    assert shop.call("PUT", path, body={"memberId": "ghost"}).status_code == 404
    assigned = shop.call("PUT", path, body={"memberId": "m2"})
    assert assigned.status_code == 200 and assigned.json() == {"memberId": "m2"}
    attribution = _attribution(shop.order(customerKey="C-7"))
    assert (attribution["memberId"], attribution["reason"]) == ("m2", "dedicated_member")

    shop.visit(member="m1", at=shop.now() - timedelta(days=1), customer_id="C-7")
    assert _attribution(shop.order(orderId="o-2", customerKey="C-7"))["reason"] == "last_click"

    assert shop.call("DELETE", path).status_code == 204
    assert _attribution(shop.order(orderId="o-3", customerKey="C-8"))["reason"] == "none"
    assert _attribution(shop.order(orderId="o-4", customerKey="C-7"))["memberId"] == "m1"  # the visit still counts
    assert shop.store().query_all("dedicated_members") == []

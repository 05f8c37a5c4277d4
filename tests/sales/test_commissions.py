"""Commission rules (most specific wins) and the ledger: transitions, Manager levels, members see their own."""

from __future__ import annotations

import pytest

from shared.brands.models import CommissionRule
from shared.sales import commissions
from shared.sales.models import OrderLine
from tests.identity.test_profile_api import app_headers
from tests.sales.shop import BRAND

RULES = [CommissionRule.model_validate(rule) for rule in (
    {"kind": "percentage", "ratePercent": 5},                                     # 0: everything
    {"kind": "percentage", "ratePercent": 8, "channel": "in_store"},              # 1: a channel
    {"kind": "fixed", "amountMinor": 300, "currency": "EUR", "category": "bags"},  # 2: a category
    {"kind": "percentage", "ratePercent": 20, "channel": "online", "category": "bags"},  # 3: both
    {"kind": "percentage", "ratePercent": 12, "channel": "online"},               # 4: a channel, listed later
)]


@pytest.mark.parametrize(("channel", "category", "currency", "quantity", "expected_rule", "expected_minor"), [
    ("online", "bags", "EUR", 1, 3, 2000),       # channel and category beat everything
    ("in_store", "bags", "EUR", 2, 2, 600),      # category beats channel; fixed per unit
    ("in_store", "bags", "USD", 1, 1, 800),      # a fixed rule in another currency does not apply
    ("in_store", "shoes", "EUR", 1, 1, 800),
    ("online", "shoes", "EUR", 1, 4, 1200),
    ("phygital", None, "EUR", 1, 0, 500),        # only the catch-all applies
])
def test_the_most_specific_rule_applies_per_line(channel, category, currency, quantity, expected_rule,
                                                 expected_minor):
    line = OrderLine(sku="S", category=category, quantity=quantity, amount_minor=10000)
    [priced] = commissions.for_lines(RULES, channel=channel, currency=currency, lines=[line])
    assert (priced.rule_index, priced.amount_minor) == (expected_rule, expected_minor)


def test_no_rule_means_no_commission_and_rounding_is_half_up():
    line = OrderLine(sku="S", quantity=1, amount_minor=333)
    assert commissions.for_lines([], channel="online", currency="EUR", lines=[line])[0].amount_minor == 0
    rule = CommissionRule.model_validate({"kind": "percentage", "ratePercent": 1.5})
    assert commissions.for_lines([rule], channel="online", currency="EUR", lines=[line])[0].amount_minor == 5
    assert commissions.due_after_refunds(1000, amount_minor=10000, refunded_minor=2500) == 750


def _two_orders(shop):
    shop.link(code="Link0001", member="m1")
    shop.link(code="Link0002", member="m2")
    assert shop.order(orderId="o-1", attributionRef=shop.ref(code="Link0001")).status_code == 201
    assert shop.order(orderId="o-2", attributionRef=shop.ref(code="Link0002")).status_code == 201


@pytest.mark.parametrize(("action", "level", "status"), [
    ("approve", "viewer", 403), ("approve", "editor", 200), ("mark-paid", "editor", 403),
])
def test_transitions_need_their_manager_level(shop, action, level, status):
    _two_orders(shop)
    if action == "mark-paid":
        shop.client.post(f"/api/v1/manager/brands/{BRAND}/commissions/approve",
                         json={"entryIds": ["o-1:commission"]}, headers=shop.manager("admin"))
    response = shop.client.post(f"/api/v1/manager/brands/{BRAND}/commissions/{action}",
                                json={"entryIds": ["o-1:commission"]}, headers=shop.manager(level))
    assert response.status_code == status, response.text


def test_the_ledger_moves_pending_approved_paid_and_refuses_illegal_steps(shop):
    _two_orders(shop)
    base = f"/api/v1/manager/brands/{BRAND}/commissions"
    listed = shop.client.get(base, headers=shop.manager("viewer"))
    assert listed.status_code == 200 and {e["memberId"] for e in listed.json()["items"]} == {"m1", "m2"}
    assert [e["id"] for e in shop.client.get(base, params={"memberId": "m2"},
                                             headers=shop.manager("viewer")).json()["items"]] == ["o-2:commission"]

    paid_too_early = shop.client.post(f"{base}/mark-paid", json={"entryIds": ["o-1:commission"]},
                                      headers=shop.manager("admin"))
    assert paid_too_early.status_code == 409
    approved = shop.client.post(f"{base}/approve", json={"entryIds": ["o-1:commission", "o-2:commission"]},
                                headers=shop.manager("editor"))
    assert [e["state"] for e in approved.json()["items"]] == ["approved", "approved"]
    again = shop.client.post(f"{base}/approve", json={"entryIds": ["o-1:commission"]}, headers=shop.manager("editor"))
    assert again.status_code == 409 and again.json()["type"].endswith("/commission-illegal-transition")

    stale = shop.client.post(f"{base}/mark-paid", json={"entryIds": ["o-1:commission"]},
                             headers={**shop.manager("admin"), "If-Match": '"stale"'})
    assert stale.status_code == 412
    [current] = shop.client.get(base, params={"memberId": "m1"}, headers=shop.manager("viewer")).json()["items"]
    paid = shop.client.post(f"{base}/mark-paid", json={"entryIds": ["o-1:commission"]},
                            headers={**shop.manager("admin"), "If-Match": current["etag"]})
    assert paid.status_code == 200 and paid.json()["items"][0]["state"] == "paid"
    assert [h["state"] for h in paid.json()["items"][0]["history"]] == ["pending", "approved", "paid"]
    by_state = shop.client.get(base, params={"state": "paid"}, headers=shop.manager("viewer")).json()["items"]
    assert [e["id"] for e in by_state] == ["o-1:commission"]
    assert shop.client.post(f"{base}/approve", json={"entryIds": ["nope"]},
                            headers=shop.manager("editor")).status_code == 404


def test_a_member_sees_only_their_own_entries_and_totals(shop):
    _two_orders(shop)
    shop.client.post(f"/api/v1/manager/brands/{BRAND}/commissions/approve", json={"entryIds": ["o-1:commission"]},
                     headers=shop.manager("editor"))
    from shared.identity import repository

    member, _ = repository.get_member(store=shop.store(), member_id="m1")
    me = app_headers(shop.container, member, brand_id=BRAND)
    base = f"/api/v1/app/{BRAND}/commissions"
    mine = shop.client.get(base, headers=me)
    assert [e["id"] for e in mine.json()["items"]] == ["o-1:commission"]
    assert shop.client.get(f"{base}/o-1:commission", headers=me).status_code == 200
    assert shop.client.get(f"{base}/o-2:commission", headers=me).status_code == 404
    totals = shop.client.get(f"{base}/totals", headers=me).json()
    assert totals == {"pending": {}, "approved": {"EUR": 1000}, "paid": {}, "reversed": {}, "clawedBack": {}}
    assert shop.client.get("/api/v1/app/other/commissions", headers=me).status_code == 404


def _settle_then(shop, steps):
    """One order of m1 (commission 1000), then each step: a Manager transition or a platform change."""
    shop.link(code="Link0001", member="m1")
    assert shop.order(orderId="o-1", attributionRef=shop.ref(code="Link0001")).status_code == 201
    base = f"/api/v1/manager/brands/{BRAND}/commissions"
    for step in steps:
        if step in ("approve", "mark-paid"):
            pending = [e["id"] for e in shop.client.get(base, headers=shop.manager("viewer")).json()["items"]
                       if e["state"] == ("pending" if step == "approve" else "approved")]
            answer = shop.client.post(f"{base}/{step}", json={"entryIds": pending}, headers=shop.manager("admin"))
        elif step == "cancel":
            answer = shop.call("POST", shop.order_path() + "/cancel")
        else:  # "refund:<amount>"
            answer = shop.call("POST", shop.order_path() + "/refunds",
                               body={"refundId": f"r-{step}", "amountMinor": int(step.split(":")[1])})
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(("steps", "expected"), [
    pytest.param(["cancel"], {"reversed": 1000}, id="cancelled while pending: reversed"),
    pytest.param(["approve", "cancel"], {"reversed": 1000}, id="cancelled once approved: reversed"),
    pytest.param(["approve", "mark-paid", "cancel"], {"paid": 1000, "clawedBack": 1000},
                 id="cancelled once paid: clawed back"),
    pytest.param(["refund:2500"], {"pending": 750}, id="refunded while pending: recomputed"),
    pytest.param(["approve", "refund:2500"], {"approved": 1000, "clawedBack": 250},
                 id="refunded once approved: a clawback"),
    pytest.param(["approve", "mark-paid", "refund:2500", "cancel"], {"paid": 1000, "clawedBack": 1000},
                 id="refunded, then cancelled, once paid: two clawbacks"),
    pytest.param(["approve", "refund:2500", "cancel"], {"reversed": 1000},
                 id="a clawback reversed with its commission takes nothing back"),
])
def test_totals_report_clawbacks_on_their_own_line_and_never_a_negative_pending(shop, steps, expected):
    _settle_then(shop, steps)
    from shared.identity import repository

    me = app_headers(shop.container, repository.get_member(store=shop.store(), member_id="m1")[0], brand_id=BRAND)
    totals = shop.client.get(f"/api/v1/app/{BRAND}/commissions/totals", headers=me).json()
    assert totals == {line: ({"EUR": expected[line]} if line in expected else {})
                      for line in ("pending", "approved", "paid", "reversed", "clawedBack")}
    assert all(amount >= 0 for line in totals.values() for amount in line.values())
    # What the totals say the member is owed is what the order's commission now is.
    net = sum(totals[line].get("EUR", 0) for line in ("pending", "approved", "paid")) - totals["clawedBack"].get(
        "EUR", 0)
    assert net == shop.store().get("orders", "o-1")["commissionMinor"]

"""Orders = ledger = dashboards = sales histories whatever the moment of a crash: each write fails in turn.

A crash is a store write that raises instead of writing (`tests.races.CrashPoint`), so everything
before it landed and nothing after it did. The platform then retries the same call, as it does
after a timeout, and the brand's dashboard, the member's counters, the ledger and the orders must
all say the same thing as if nothing had happened. Retries come two minutes later: a crash while
the ledger was marked (`ledgerLock`) leaves a mark that a caller can only take over once stale.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.crm.models import SaleRef
from shared.integrations.signing import signed_headers
from shared.sales import order_counts, orders
from shared.tracking import counted_once, counters
from tests.races import CrashPoint, in_parallel, overlap_reads
from tests.sales.shop import BRAND

WRITTEN = ("orders", "commissions", "tracking_counters", "contacts", "identity_keys")
DASHBOARD = f"/api/v1/manager/brands/{BRAND}/tracking/dashboard"
STALE = timedelta(minutes=2)


def _body(shop, order_id: str, placed_at: str, ref: str) -> dict:
    return {"orderId": order_id, "channel": "online", "placedAt": placed_at, "currency": "EUR",
            "amountMinor": 10000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 10000}],
            "attributionRef": ref, "customer": {"email": f"{order_id}@example.com"}, "brandOptIn": True}


def _post(shop, body):
    return shop.call("POST", f"/api/v1/integrations/{BRAND}/orders", body=body)


def _dashboard(shop) -> dict:
    response = shop.client.get(DASHBOARD, headers=shop.manager("viewer"))
    assert response.status_code == 200, response.text
    return response.json()["totals"]


def _expected(shop) -> dict:
    """What the stored orders say the counters must show (every order here is m1's)."""
    placed = shop.store().query_all("orders")
    live = [order for order in placed if order["status"] == "placed"]
    return {"orders": len(live), "refunds": sum(len(order["refunds"]) for order in placed),
            "salesMinor": {"EUR": sum(order["amountMinor"] - order["refundedMinor"] for order in live)},
            "commissionMinor": {"EUR": sum(order["commissionMinor"] for order in placed)}}


def _assert_all_agree(shop, orders_posted: int) -> None:
    stored = shop.store().query_all("orders")
    assert len(stored) == orders_posted
    assert all(order["effects"] == "applied" and not order_counts.pending(order) for order in stored)
    assert all(order["contactId"] for order in stored)
    for order in stored:  # each contact's sales history: one line, the order's latest state
        lines = shop.store().get("contacts", order["contactId"])["sales"]
        assert [SaleRef.model_validate(line) for line in lines] == [orders.sale_of(order)]
    assert len({entry["orderId"] for entry in shop.ledger()}) == orders_posted
    assert sum(e["amountMinor"] for e in shop.ledger() if e["state"] != "reversed") == sum(
        order["commissionMinor"] for order in stored)
    expected = _expected(shop)
    for counts in (_dashboard(shop), shop.counters_of("m1")):  # the brand's roll-up, the member's details
        assert {"orders": counts["orders"], "refunds": counts["refunds"],
                "salesMinor": {"EUR": counts["salesMinor"].get("EUR", 0)},
                "commissionMinor": {"EUR": counts["commissionMinor"].get("EUR", 0)}} == expected
    left = [doc["id"] for doc in shop.store().query_all(counters.CONTAINER) if doc.get(counted_once.MARKS)]
    assert left == []  # every mark swept


def _each_crash_point(crash: CrashPoint, call, repair) -> int:
    """Run `call` crashing at its 1st, 2nd, ... write, `repair` after each, until it runs through; the crash points."""
    at = 0
    while True:
        at += 1
        answer = crash.during(at, lambda: call(at))
        if not crash.fired:
            assert answer.status_code in (200, 201), answer.text
            return at - 1
        assert answer is None or answer.status_code == 500
        repair(at)


def _retried(shop, call):
    shop.container.clock.advance(STALE)
    again = call()
    assert again.status_code in (200, 201), again.text
    return again


def test_a_crash_at_any_write_of_a_new_order_is_repaired_by_one_re_post(shop, monkeypatch):
    shop.link()
    ref = shop.ref()
    crash = CrashPoint(monkeypatch, WRITTEN)
    placed = shop.now_text()

    def post(at):
        return _post(shop, _body(shop, f"o-{at}", placed, ref))

    def repair(at):
        _retried(shop, lambda: post(at))
        _assert_all_agree(shop, orders_posted=at)

    points = _each_crash_point(crash, post, repair)
    # The order, its counters (created, marked, swept), the record, the ledger, the contact: each a crash point.
    assert points >= 15
    _assert_all_agree(shop, orders_posted=points + 1)


def test_a_crash_during_the_repair_too_is_repaired_by_the_next_re_post(shop, monkeypatch):
    shop.link()
    ref = shop.ref()
    crash = CrashPoint(monkeypatch, WRITTEN)
    placed, posted = shop.now_text(), 0
    for first in (2, 4):  # after the order's create and one counter; after three counters
        for second in range(1, 16):
            posted += 1
            body = _body(shop, f"o-{first}-{second}", placed, ref)
            assert crash.during(first, lambda: _post(shop, body)) is None and crash.fired
            shop.container.clock.advance(STALE)
            crash.during(second, lambda: _post(shop, body))  # the repair may have fewer writes than `second`
            _retried(shop, lambda: _post(shop, body))
            _assert_all_agree(shop, orders_posted=posted)


CHANGES = {
    "update": ("PUT", "", {"amountMinor": 20000, "lines": [{"sku": "S1", "quantity": 2, "amountMinor": 20000}]}),
    "partial refund": ("POST", "/refunds", {"refundId": "r-1", "amountMinor": 2500}),
    "full refund": ("POST", "/refunds", {"refundId": "r-1", "amountMinor": 10000}),
    "cancel": ("POST", "/cancel", None),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_crash_at_any_write_of_an_order_change_is_repaired_by_its_retry(shop, monkeypatch, change):
    method, suffix, body = CHANGES[change]
    shop.link()
    ref = shop.ref()
    crash = CrashPoint(monkeypatch, WRITTEN)

    def change_order(at):
        crash.at = 0  # the order itself is placed cleanly
        assert _post(shop, _body(shop, f"o-{at}", shop.now_text(), ref)).status_code == 201
        crash.arm(at)
        return shop.call(method, shop.order_path(f"o-{at}") + suffix, body=body)

    def repair(at):
        _retried(shop, lambda: shop.call(method, shop.order_path(f"o-{at}") + suffix, body=body))
        _assert_all_agree(shop, orders_posted=at)

    assert _each_crash_point(crash, change_order, repair) >= 8
    _assert_all_agree(shop, orders_posted=len(shop.store().query_all("orders")))


def test_re_posts_racing_on_an_order_left_pending_count_it_once(shop, monkeypatch):
    shop.link()
    body = _body(shop, "o-1", shop.now_text(), shop.ref())
    crash = CrashPoint(monkeypatch, WRITTEN)
    assert crash.during(2, lambda: _post(shop, body)) is None  # the order is created, none of its counters is
    shop.container.clock.advance(STALE)
    # Signatures are single-use: each re-post is signed a second apart, then all are sent at once.
    path, raw = f"/api/v1/integrations/{BRAND}/orders", json.dumps(body).encode()
    requests = []
    for _ in range(8):
        shop.container.clock.advance(timedelta(seconds=1))
        key = shop.keys[BRAND]
        headers = signed_headers(kid=key.kid, secret=key.secret, method="POST", path=path, body=raw, now=shop.now())
        requests.append({"content": raw, "headers": headers | {"Content-Type": "application/json"}})
    overlap_reads(monkeypatch, "get", counters.CONTAINER, 8)  # all read the first counter before any writes
    answers = in_parallel(8, lambda: shop.client.post(path, **requests.pop()))
    assert [answer.status_code for answer in answers] == [200] * 8, [answer.text for answer in answers]
    _assert_all_agree(shop, orders_posted=1)


def test_a_caller_that_read_the_change_as_pending_too_late_is_undone_by_the_sweep(shop, monkeypatch):
    """A re-post reads the order while its change is pending, stalls, and counts after the first call
    recorded the change and swept its marks: its second count is taken back, even after a crash."""
    shop.link()
    body = _body(shop, "o-1", shop.now_text(), shop.ref())
    crash = CrashPoint(monkeypatch, WRITTEN)
    assert crash.during(2, lambda: _post(shop, body)) is None
    stale = shop.store().get("orders", "o-1")
    shop.container.clock.advance(STALE)
    assert _post(shop, body).status_code == 200  # counts, records and sweeps
    _assert_all_agree(shop, orders_posted=1)

    (entry,) = order_counts.pending(stale)
    marks = order_counts.count(store=shop.store(), order=stale, entry=entry,
                               token="late")  # the stalled caller wakes up
    assert set(marks.values()) == {"late"} and shop.counters_of("m1")["orders"] == 2
    # It crashes before its own sweep; the next call on the order takes the second count back.
    assert _post(shop, body).status_code == 200
    _assert_all_agree(shop, orders_posted=1)


def test_a_re_post_within_a_minute_of_a_crash_holding_the_ledger_is_told_when_to_come_back(shop, monkeypatch):
    """The crashed call held the order's ledger mark: for a minute nobody can tell it from a live caller, so
    a re-post then keeps the order's effects pending and answers 503 with the time the mark goes stale;
    the platform's re-post after that time repairs everything."""
    shop.link()
    body = _body(shop, "o-1", shop.now_text(), shop.ref())
    crash = CrashPoint(monkeypatch, ("commissions",))
    assert crash.during(1, lambda: _post(shop, body)) is None and crash.fired  # died writing the ledger entry
    shop.container.clock.advance(timedelta(seconds=20))
    busy = _post(shop, body)
    assert busy.status_code == 503 and busy.json()["type"].endswith("/order-in-progress"), busy.text
    assert 30 <= int(busy.headers["Retry-After"]) <= 40
    assert shop.ledger() == [] and shop.store().get("orders", "o-1")["effects"] == "pending"
    assert _dashboard(shop)["orders"] == 1  # the counters do not wait for the ledger
    shop.container.clock.advance(timedelta(seconds=int(busy.headers["Retry-After"])))
    assert _post(shop, body).status_code == 200
    _assert_all_agree(shop, orders_posted=1)

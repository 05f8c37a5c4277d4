"""Order lists: the Manager's (newest first, paged, filtered by member, days, reason, status) and a member's own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.identity import repository
from shared.ports.store import PatchOp
from shared.sales import orders
from tests.identity.test_profile_api import app_headers
from tests.sales.shop import BRAND, OTHER

MANAGER = f"/api/v1/manager/brands/{BRAND}/orders"
APP = f"/api/v1/app/{BRAND}/orders"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _post(shop, order_id, placed, **fields):
    response = shop.order(orderId=order_id, placedAt=placed, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def _by_link(shop, order_id, placed, code, **fields):
    return _post(shop, order_id, placed, attributionRef=shop.ref(code=code, clicked_at=_at(placed)), **fields)


@pytest.fixture
def book(shop):
    """Five orders over four UTC days (the clock is at 2030-01-01T09:00Z): m1 ×3, m2 ×1, one unattributed."""
    shop.link(code="Link0001", member="m1")
    shop.link(code="Link0002", member="m2")
    _by_link(shop, "o-a", "2029-12-29T00:00:00Z", "Link0001")  # first second of its day
    _by_link(shop, "o-b", "2029-12-30T12:00:00Z", "Link0002")
    _post(shop, "o-c", "2029-12-31T23:59:59Z", channel="phygital", vendor={"memberId": "m1"})  # last second
    _post(shop, "o-d", "2030-01-01T08:00:00Z")
    _by_link(shop, "o-e", "2030-01-01T08:30:00Z", "Link0001")
    assert shop.call("POST", f"{shop.order_path('o-e')}/cancel").status_code == 200
    return shop


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["orderId"] for item in response.json()["items"]]


def _all_pages(shop, path, headers, **params) -> list[str]:
    ids, continuation = [], None
    for _ in range(20):
        response = shop.client.get(path, params={**params, **({"continuation": continuation} if continuation else {})},
                                   headers=headers)
        ids += _ids(response)
        continuation = response.json()["continuation"]
        if continuation is None:
            return ids
    raise AssertionError("no last page")


def _member(shop, member_id, brand=BRAND):
    member, _ = repository.get_member(store=shop.store(), member_id=member_id)
    return app_headers(shop.container, member, brand_id=brand)


def test_the_manager_lists_newest_first_page_by_page(book):
    viewer = book.manager("viewer")
    first = book.client.get(MANAGER, params={"pageSize": 2}, headers=viewer)
    assert _ids(first) == ["o-e", "o-d"] and first.json()["continuation"]
    second = book.client.get(MANAGER, params={"pageSize": 2, "continuation": first.json()["continuation"]},
                             headers=viewer)
    assert _ids(second) == ["o-c", "o-b"]
    last = book.client.get(MANAGER, params={"pageSize": 2, "continuation": second.json()["continuation"]},
                           headers=viewer)
    assert _ids(last) == ["o-a"] and last.json()["continuation"] is None
    item = first.json()["items"][0]
    assert item["status"] == "cancelled" and item["attribution"]["reason"] == "last_click"
    assert item["attribution"]["memberId"] == "m1" and item["attribution"]["explanation"]["code"] == "Link0001"
    assert (item["amountMinor"], item["currency"], item["commissionMinor"]) == (10000, "EUR", 0)


@pytest.mark.parametrize(("params", "expected"), [
    ({"from": "2029-12-29", "to": "2029-12-31"}, ["o-c", "o-b", "o-a"]),  # both ends inclusive, to the second
    ({"from": "2029-12-30", "to": "2029-12-30"}, ["o-b"]),
    ({"from": "2029-12-31"}, ["o-e", "o-d", "o-c"]),
    ({"to": "2029-12-29"}, ["o-a"]),
    ({"from": "2030-01-02"}, []),
    ({"memberId": "m1"}, ["o-e", "o-c", "o-a"]),
    ({"memberId": "m1", "from": "2029-12-30", "to": "2029-12-31"}, ["o-c"]),
    ({"memberId": "nobody"}, []),
    ({"reason": "vendor"}, ["o-c"]),
    ({"reason": "none"}, ["o-d"]),
    ({"reason": "last_click"}, ["o-e", "o-b", "o-a"]),
    ({"status": "cancelled"}, ["o-e"]),
    ({"status": "placed", "memberId": "m1"}, ["o-c", "o-a"]),
    ({"status": "refunded"}, []),
])
def test_the_manager_filters_by_day_member_reason_and_status(book, params, expected):
    assert _ids(book.client.get(MANAGER, params=params, headers=book.manager("viewer"))) == expected


@pytest.mark.parametrize("params", [{"reason": "last_click"}, {"status": "placed"}, {"memberId": "m1"}])
def test_filtered_pages_of_one_walk_every_match_once(book, params):
    everything = _ids(book.client.get(MANAGER, params=params, headers=book.manager("viewer")))
    assert _all_pages(book, MANAGER, book.manager("viewer"), pageSize=1, **params) == everything


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2029-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2029-1-5"}, "from"),
    ({"from": "2030-01-02", "to": "2030-01-01"}, "from"),
    ({"reason": "lucky"}, "reason"),
    ({"status": "shipped"}, "status"),
    ({"pageSize": 0}, "pageSize"),
    ({"pageSize": 101}, "pageSize"),
])
def test_bad_input_is_a_422_naming_the_field(book, params, field):
    for path, headers in ((MANAGER, book.manager("viewer")), (APP, _member(book, "m1"))):
        if path == APP and field in ("reason", "status"):
            continue  # the member's list has no such filters
        response = book.client.get(path, params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert [error["field"].split(".")[-1] for error in response.json()["errors"]] == [field]


def test_a_member_lists_only_the_orders_attributed_to_them(book):
    m1, m2 = _member(book, "m1"), _member(book, "m2")
    assert _all_pages(book, APP, m1, pageSize=2) == ["o-e", "o-c", "o-a"]
    assert _ids(book.client.get(APP, headers=m2)) == ["o-b"]
    assert _ids(book.client.get(APP, params={"from": "2029-12-31", "to": "2029-12-31"}, headers=m1)) == ["o-c"]
    assert _ids(book.client.get(APP, params={"memberId": "m2"}, headers=m1)) == ["o-e", "o-c", "o-a"]  # ignored
    item = book.client.get(APP, headers=m1).json()["items"][0]
    assert item["attribution"]["reason"] == "last_click" and item["commissionMinor"] == 0
    assert "contactRefused" not in item


@pytest.mark.parametrize(("who", "path", "status"), [
    ("nobody", MANAGER, 401),
    ("nobody", APP, 401),
    ("other-manager", MANAGER, 404),
    ("viewer", f"/api/v1/manager/brands/{OTHER}/orders", 404),
    ("member", f"/api/v1/app/{OTHER}/orders", 404),
    ("member", MANAGER, 401),
    ("viewer", MANAGER, 200),
    ("member", APP, 200),
])
def test_levels(book, who, path, status):
    headers = {"nobody": {}, "other-manager": book.manager("admin", brand=OTHER), "viewer": book.manager("viewer"),
               "member": _member(book, "m1")}[who]
    assert book.client.get(path, headers=headers).status_code == status


def test_no_listed_item_carries_a_customer_or_visitor_key_or_another_member(shop):
    shop.link(code="Blocked1", member="mb")
    placed = "2029-12-31T10:00:00Z"
    shop.visit(member="m1", at=_at("2029-12-30T10:00:00Z"), customer_id="CUST-42")
    # The blocked member's click is skipped (a note naming "mb"), then the customer's visit credits m1.
    order = _post(shop, "o-k", placed, attributionRef=shop.ref(code="Blocked1", clicked_at=_at(placed)),
                  customerKey="CUST-42", visitorId="tmp-visitor-7", customer={"email": "zoe@example.com"},
                  brandOptIn=True)
    assert order["attribution"]["memberId"] == "m1" and order["contactId"]
    hasher = shop.container.hasher(BRAND)
    secrets = ["CUST-42", "tmp-visitor-7", hasher("customer_id", "CUST-42"), hasher("visitor", "tmp-visitor-7"),
               "customerKey", "visitorKey", "visitorId", "fingerprint", "zoe@example.com"]

    managed = shop.client.get(MANAGER, headers=shop.manager("viewer"))
    mine = shop.client.get(APP, headers=_member(shop, "m1"))
    for response in (managed, mine):
        assert _ids(response) == ["o-k"]
        assert not [secret for secret in secrets if secret in response.text]
    [manager_item], [member_item] = managed.json()["items"], mine.json()["items"]
    assert manager_item["attribution"]["explanation"]["notes"][0]["memberId"] == "mb"
    assert "notes" not in member_item["attribution"]["explanation"] and '"mb"' not in mine.text
    assert member_item["attribution"]["explanation"]["keyedBy"] == "customer"
    assert member_item["contactId"] == manager_item["contactId"] == order["contactId"]  # their own contact


def test_a_contact_no_longer_theirs_is_not_shown_to_the_member(shop):
    order = _post(shop, "o-v", "2029-12-31T10:00:00Z", channel="phygital", vendor={"memberId": "m1"},
                  customer={"email": "zoe@example.com"}, brandOptIn=True)
    assert order["contactId"]
    shop.store().patch("contacts", order["contactId"], [PatchOp("set", "memberId", "m2")])  # moved to another member
    [item] = shop.client.get(APP, headers=_member(shop, "m1")).json()["items"]
    assert item["orderId"] == "o-v" and item["contactId"] is None


def test_a_sparse_filter_answers_short_pages_that_continue(book, monkeypatch):
    monkeypatch.setattr(orders, "_LIST_MAX_READS", 1)  # one store page per call: the first calls find nothing
    first = book.client.get(MANAGER, params={"reason": "vendor", "pageSize": 1}, headers=book.manager("viewer"))
    assert _ids(first) == [] and first.json()["continuation"]
    assert _all_pages(book, MANAGER, book.manager("viewer"), reason="vendor", pageSize=1) == ["o-c"]

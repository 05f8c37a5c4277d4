"""Tracking dashboards: what a member and the Manager see, summed from the counters written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.tracking import counters
from tests.identity.test_profile_api import add_member, app_headers

BRAND, OTHER = "acme", "globex"
APP = f"/api/v1/app/{BRAND}/tracking/dashboard"
MANAGER = f"/api/v1/manager/brands/{BRAND}/tracking/dashboard"


@pytest.fixture
def setup(container, client):
    for brand_id in (BRAND, OTHER):
        brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
            {"id": brand_id, "name": brand_id.title(), "allowedDomains": [f"{brand_id}.example"]}))
    return {member_id: app_headers(container, add_member(container, member_id=member_id), ttl=timedelta(days=1))
            for member_id in ("m1", "m2", "m3")}


def write(container, member_id, day, source, kind, brand_id=BRAND, **deltas):
    """Write counters the way the tracking and order handlers do: member + roll-up."""
    counters.apply(store=container.store.for_brand(brand_id), increments=counters.for_member(member_id, day, source,
                                                                                             kind, deltas))


def test_a_member_sees_only_their_own_counters_summed_by_source_kind_and_day(client, container, setup):
    # The clock stands at 2030-01-01: the default range is 2029-12-03 .. 2030-01-01.
    write(container, "m1", "2029-12-31", "email", "product", clicks=3, externalVisits=2, internalVisits=1,
          pageViews=7, productPicks=2, orders=1, **{"salesMinor.EUR": 4990, "commissionMinor.EUR": 499})
    write(container, "m1", "2030-01-01", "qr_code", "profile", clicks=2, externalVisits=2, orders=1,
          **{"salesMinor.USD": 1000, "commissionMinor.USD": 100})
    write(container, "m1", "2030-01-01", "email", "product", clicks=1, externalVisits=1, refunds=1)
    write(container, "m1", "2029-11-01", "email", "product", clicks=100)  # before the range
    write(container, "m2", "2030-01-01", "email", "product", clicks=50, orders=9)  # another member
    write(container, "m1", "2030-01-01", "email", "product", brand_id=OTHER, clicks=70)  # same id, other brand

    answer = client.get(APP, headers=setup["m1"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"]) == ("2029-12-03", "2030-01-01")
    totals = body["totals"]
    assert {k: totals[k] for k in ("clicks", "externalVisits", "internalVisits", "pageViews", "productPicks",
                                   "orders", "refunds")} == {
        "clicks": 6, "externalVisits": 5, "internalVisits": 1, "pageViews": 7, "productPicks": 2, "orders": 2,
        "refunds": 1}
    # Money stays per currency: euros and dollars are never added.
    assert totals["salesMinor"] == {"EUR": 4990, "USD": 1000}
    assert totals["commissionMinor"] == {"EUR": 499, "USD": 100}
    assert body["rates"]["ordersPerClick"] == round(2 / 6, 4)
    assert body["rates"]["refundsPerOrder"] == 0.5

    by_source = {row["source"]: row for row in body["bySource"]}
    assert by_source["email"]["clicks"] == 4 and by_source["qr_code"]["clicks"] == 2
    assert by_source["facebook"]["clicks"] == 0  # every source listed, zeroes included
    assert by_source["qr_code"]["salesMinor"] == {"USD": 1000}
    by_kind = {row["targetKind"]: row for row in body["byTargetKind"]}
    assert by_kind["product"]["clicks"] == 4 and by_kind["profile"]["orders"] == 1 and by_kind["url"]["clicks"] == 0

    days = [row["day"] for row in body["byDay"]]
    assert len(days) == 30 and days[0] == "2029-12-03" and days[-1] == "2030-01-01"  # no gaps, in order
    by_day = {row["day"]: row for row in body["byDay"]}
    assert by_day["2029-12-31"]["clicks"] == 3 and by_day["2030-01-01"]["clicks"] == 3
    assert by_day["2029-12-15"]["clicks"] == 0 and by_day["2029-12-15"]["salesMinor"] == {}
    assert sum(row["clicks"] for row in body["byDay"]) == totals["clicks"]


def test_a_member_with_no_counters_sees_zeroes_and_null_rates(client, setup):
    body = client.get(APP, headers=setup["m3"], params={"from": "2029-12-30", "to": "2030-01-01"}).json()
    assert body["totals"]["clicks"] == 0 and body["rates"]["ordersPerClick"] is None
    assert [row["day"] for row in body["byDay"]] == ["2029-12-30", "2029-12-31", "2030-01-01"]


def test_a_range_over_several_months_reads_every_month(client, container, setup):
    for day in ("2029-01-02", "2029-06-30", "2029-12-31"):
        write(container, "m1", day, "sms", "url", clicks=1)
    body = client.get(APP, headers=setup["m1"], params={"from": "2029-01-01", "to": "2029-12-31"}).json()
    assert body["totals"]["clicks"] == 3 and len(body["byDay"]) == 365


def test_another_brand_answers_404(client, setup):
    assert client.get(f"/api/v1/app/{OTHER}/tracking/dashboard", headers=setup["m1"]).status_code == 404


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2030-13-01"}, "from"),
    ({"to": "01/01/2030"}, "to"),
    ({"from": "2030-01-02", "to": "2030-01-01"}, "from"),  # from after to
    ({"from": "2029-01-01", "to": "2030-01-02"}, "from"),  # 367 days: one too many
])
def test_bad_ranges_answer_422_naming_the_field(client, setup, manager_token, params, field):
    for url, headers in ((APP, setup["m1"]), (MANAGER, manager_token("viewer", BRAND)),
                         (f"{MANAGER}/members", manager_token("viewer", BRAND))):
        answer = client.get(url, headers=headers, params=params)
        assert answer.status_code == 422, (url, answer.text)
        assert [error["field"] for error in answer.json()["errors"]] == [field]


def test_the_longest_range_is_366_days(client, setup):
    answer = client.get(APP, headers=setup["m1"], params={"from": "2029-01-01", "to": "2030-01-02"})
    assert answer.status_code == 422
    answer = client.get(APP, headers=setup["m1"], params={"from": "2029-01-01", "to": "2030-01-01"})
    assert answer.status_code == 200 and len(answer.json()["byDay"]) == 366

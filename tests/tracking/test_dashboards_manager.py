"""Manager tracking dashboards: brand roll-ups, members ranked and paged, one member's drill-down."""

from __future__ import annotations

import pytest

from shared.tracking import counters, dashboards
from tests.identity.test_profile_api import add_member
from tests.tracking.test_dashboards import BRAND, MANAGER, OTHER, setup, write  # noqa: F401 (fixture)

RANGE = {"from": "2029-12-01", "to": "2030-01-01"}


@pytest.fixture
def written(container, setup):  # noqa: F811 (fixture)
    write(container, "m1", "2029-12-31", "email", "product", clicks=5, externalVisits=5, orders=1,
          **{"salesMinor.EUR": 1000, "commissionMinor.EUR": 100})
    write(container, "m2", "2029-12-31", "email", "profile", clicks=3, externalVisits=3, orders=2,
          **{"salesMinor.EUR": 9000, "commissionMinor.EUR": 900})
    write(container, "m2", "2030-01-01", "sms", "url", clicks=1, internalVisits=1, **{"salesMinor.USD": 50000})
    write(container, "m3", "2029-12-01", "qr_code", "profile", clicks=8, externalVisits=8, pageViews=4)
    write(container, "m9", "2030-01-01", "email", "product", brand_id=OTHER, clicks=100)  # another brand


def test_the_brand_dashboard_reads_the_roll_ups_which_equal_the_sum_of_members(client, container, written,
                                                                              manager_token):
    answer = client.get(MANAGER, headers=manager_token("viewer", BRAND), params=RANGE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"]["clicks"] == 17 and body["totals"]["orders"] == 3
    assert body["totals"]["salesMinor"] == {"EUR": 10000, "USD": 50000}
    assert body["totals"]["commissionMinor"] == {"EUR": 1000}
    assert len(body["byDay"]) == 32
    by_source = {row["source"]: row["clicks"] for row in body["bySource"]}
    assert (by_source["email"], by_source["sms"], by_source["qr_code"], by_source["x"]) == (8, 1, 8, 0)

    # The sum of every member's own dashboard equals the brand's.
    members = client.get(f"{MANAGER}/members", headers=manager_token("viewer", BRAND), params=RANGE).json()
    assert sum(item["clicks"] for item in members["items"]) == body["totals"]["clicks"]

    # The brand view reads the roll-ups only: a member document written without its roll-up is not in it.
    counters.apply(store=container.store.for_brand(BRAND),
                   increments={counters.CounterKey("m1", "2029-12-31", "email", "product"): {"clicks": 1000}})
    assert client.get(MANAGER, headers=manager_token("viewer", BRAND), params=RANGE).json()["totals"]["clicks"] == 17


def test_members_are_ranked_by_the_chosen_counter_and_paged(client, written, manager_token):
    headers = manager_token("viewer", BRAND)

    def ranking(**params):
        answer = client.get(f"{MANAGER}/members", headers=headers, params={**RANGE, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    by_clicks = ranking()
    assert [item["memberId"] for item in by_clicks["items"]] == ["m3", "m1", "m2"]
    assert by_clicks["membersTotal"] == 3 and by_clicks["continuation"] is None
    assert by_clicks["items"][0]["firstName"] == "Ana"  # the names the Manager sees in its member list
    assert [item["memberId"] for item in ranking(sortBy="orders")["items"]] == ["m2", "m1", "m3"]

    # Sales sort on one currency: the largest by default (USD here), or the one asked for.
    dollars = ranking(sortBy="sales")
    assert dollars["currency"] == "USD" and [item["memberId"] for item in dollars["items"]][0] == "m2"
    euros = ranking(sortBy="sales", currency="EUR")
    assert [(item["memberId"], item["salesMinor"].get("EUR", 0)) for item in euros["items"]] == [
        ("m2", 9000), ("m1", 1000), ("m3", 0)]
    assert euros["items"][0]["salesMinor"] == {"EUR": 9000, "USD": 50000}  # kept per currency

    first = ranking(limit=2)
    assert [item["memberId"] for item in first["items"]] == ["m3", "m1"] and first["continuation"]
    second = ranking(limit=2, continuation=first["continuation"])
    assert [item["memberId"] for item in second["items"]] == ["m2"] and second["continuation"] is None

    email_only = ranking(source="email")
    assert [(item["memberId"], item["clicks"]) for item in email_only["items"]] == [("m1", 5), ("m2", 3)]


@pytest.mark.parametrize(("params", "field"), [
    ({"sortBy": "likes"}, "sortBy"), ({"source": "tiktok"}, "source"), ({"currency": "euro"}, "currency"),
    ({"continuation": "not-ours"}, "continuation"),
])
def test_bad_ranking_parameters_answer_422_naming_the_field(client, written, manager_token, params, field):
    answer = client.get(f"{MANAGER}/members", headers=manager_token("viewer", BRAND), params={**RANGE, **params})
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]


def test_a_member_drill_down_is_the_members_own_dashboard(client, container, written, manager_token):
    headers = manager_token("viewer", BRAND)
    answer = client.get(f"{MANAGER}/members/m2", headers=headers, params=RANGE)
    assert answer.status_code == 200, answer.text
    expected = dashboards.dashboard(store=container.store.for_brand(BRAND), member_id="m2", start=RANGE["from"],
                                    end=RANGE["to"]).model_dump(by_alias=True)
    assert answer.json() == expected and expected["totals"]["clicks"] == 4
    assert client.get(f"{MANAGER}/members/nobody", headers=headers, params=RANGE).status_code == 404
    assert client.get(f"{MANAGER}/members/*", headers=headers, params=RANGE).status_code == 404


def test_other_brands_managers_get_404_and_a_viewer_is_enough(client, container, written, manager_token):
    add_member(container, brand_id=OTHER, member_id="m9")
    other = manager_token("viewer", OTHER)
    for url in (MANAGER, f"{MANAGER}/members", f"{MANAGER}/members/m1"):
        assert client.get(url, headers=other).status_code == 404
        assert client.get(url).status_code == 401
        assert client.get(url, headers=manager_token("viewer", BRAND)).status_code == 200
    own = client.get(f"/api/v1/manager/brands/{OTHER}/tracking/dashboard", headers=other, params=RANGE).json()
    assert own["totals"]["clicks"] == 100  # and nothing of BRAND's

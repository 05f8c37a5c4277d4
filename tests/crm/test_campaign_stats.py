"""Campaign dashboards: counters follow sends and provider events, once each; who sees which totals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.crm import campaign_stats, provider_events
from tests.builders import add_brand, running_app
from tests.crm.test_campaigns import BRAND, LINK, new_contact
from tests.identity.test_profile_api import add_member, app_headers

APP = f"/api/v1/app/{BRAND}"
MANAGER = f"/api/v1/manager/brands/{BRAND}/campaigns/stats"
ZERO = {"sent": 0, "delivered": 0, "opened": 0, "clicked": 0, "bounced": 0, "complaints": 0, "unsubscribed": 0}


@pytest.fixture
def stats_client(container):
    add_brand(container, BRAND, "Acme", manualContactEntry=True, allowedDomains=["acme.example"])
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def members(container, stats_client):
    # Long-lived tokens: the tests move the clock by days.
    return {member_id: app_headers(container, add_member(container, member_id=member_id), ttl=timedelta(days=30))
            for member_id in ("m1", "m2")}


def send(client, headers, campaign_id, tags=("vip",)):
    answer = client.post(f"{APP}/campaigns", headers=headers, json={
        "id": campaign_id, "title": "Spring", "text": "New pieces", "link": LINK, "tags": list(tags)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def event(container, kind, campaign_id, contact_id, n=1):
    """Drive the provider-event handler with the payload our campaign emails carry."""
    provider_event = provider_events.ProviderEvent(
        event=kind, at=container.clock.now(), provider_message_id=f"{kind}-{campaign_id}-{contact_id}-{n}",
        brand_id=BRAND, contact_id=contact_id, campaign_id=campaign_id)
    return provider_events.process(provider_event, f"evt-{kind}-{campaign_id}-{contact_id}-{n}",
                                   store=container.store, journal_for=container.journal, events=container.events,
                                   clock=container.clock)

def counters(body):
    return {name: body[name] for name in ZERO}


def test_counters_follow_a_send_and_provider_events_once_each(stats_client, container, members):
    zoe, max_, eve, bob = (new_contact(container, f"{name}@example.com") for name in ("zoe", "max", "eve", "bob"))
    send(stats_client, members["m1"], "c1")
    for contact in (zoe, max_, eve):
        event(container, "sent", "c1", contact.id)
    event(container, "bounce", "c1", bob.id)
    event(container, "open", "c1", zoe.id)
    event(container, "open", "c1", zoe.id, n=2)  # a second open of the same email: a unique open only
    event(container, "open", "c1", max_.id)
    event(container, "click", "c1", zoe.id)
    event(container, "spam", "c1", eve.id)
    event(container, "unsub", "c1", max_.id)
    assert event(container, "click", "c1", zoe.id) == "duplicate"  # the same event replayed

    answer = stats_client.get(f"{APP}/campaigns/c1/stats", headers=members["m1"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert counters(body) == {"sent": 4, "delivered": 3, "opened": 2, "clicked": 1, "bounced": 1,
                              "complaints": 1, "unsubscribed": 1}
    assert body["rates"]["openRate"] == round(2 / 3, 4) and body["rates"]["clickRate"] == round(1 / 3, 4)
    assert body["rates"]["bounceRate"] == 0.25 and body["rates"]["clickToOpenRate"] == 0.5
    assert body["campaignId"] == "c1" and body["sentOn"] == "2030-01-01"


def test_a_re_posted_campaign_counts_its_recipients_once(stats_client, container, members):
    new_contact(container, "zoe@example.com")
    send(stats_client, members["m1"], "c1")
    send(stats_client, members["m1"], "c1")
    assert stats_client.get(f"{APP}/campaigns/c1/stats", headers=members["m1"]).json()["sent"] == 1


def test_empty_denominators_give_null_rates(stats_client, container, members):
    send(stats_client, members["m1"], "c0")  # nobody to send to
    body = stats_client.get(f"{APP}/campaigns/c0/stats", headers=members["m1"]).json()
    assert counters(body) == ZERO and set(body["rates"].values()) == {None}


def test_a_member_sees_only_their_own_campaigns(stats_client, container, members):
    new_contact(container, "zoe@example.com")
    send(stats_client, members["m1"], "c1")
    assert stats_client.get(f"{APP}/campaigns/c1/stats", headers=members["m2"]).status_code == 404
    assert stats_client.get(f"{APP}/campaigns/nope/stats", headers=members["m1"]).status_code == 404
    assert stats_client.get(f"{APP}/campaigns/stats", headers=members["m2"]).json()["sent"] == 0
    assert stats_client.get(f"{APP}/campaigns/c1/stats").status_code == 401


def test_member_totals_respect_the_date_range(stats_client, container, members):
    zoe = new_contact(container, "zoe@example.com")
    send(stats_client, members["m1"], "day1")
    container.clock.advance(timedelta(days=1))
    send(stats_client, members["m1"], "day2")
    event(container, "sent", "day1", zoe.id)  # counted on the day its campaign was sent
    path = f"{APP}/campaigns/stats"
    first = stats_client.get(path, params={"from": "2030-01-01", "to": "2030-01-01"}, headers=members["m1"]).json()
    assert (first["sent"], first["delivered"], first["from"], first["to"]) == (1, 1, "2030-01-01", "2030-01-01")
    both = stats_client.get(path, params={"from": "2030-01-01", "to": "2030-01-02"}, headers=members["m1"]).json()
    assert both["sent"] == 2 and both["rates"]["deliveryRate"] == 0.5
    later = stats_client.get(path, params={"from": "2030-01-03", "to": "2030-01-09"}, headers=members["m1"]).json()
    assert later["sent"] == 0 and later["rates"]["openRate"] is None


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2030-1-1"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2030-01-05", "to": "2030-01-01"}, "from"),
    ({"from": "2028-01-01", "to": "2030-01-01"}, "from"),
])
def test_a_bad_range_is_422_naming_the_field(stats_client, container, members, manager_token, params, field):
    for path, headers in ((f"{APP}/campaigns/stats", members["m1"]), (MANAGER, manager_token("viewer", BRAND))):
        answer = stats_client.get(path, params=params, headers=headers)
        assert answer.status_code == 422, answer.text
        assert field in {error["field"] for error in answer.json()["errors"]}


def test_the_manager_sees_brand_totals_by_member(stats_client, container, members, manager_token):
    zoe = new_contact(container, "zoe@example.com")
    new_contact(container, "max@example.com")
    ann = new_contact(container, "ann@example.com", member_id="m2")
    send(stats_client, members["m1"], "c1")
    send(stats_client, members["m2"], "c2")
    event(container, "sent", "c1", zoe.id)
    event(container, "sent", "c2", ann.id)
    event(container, "open", "c2", ann.id)
    container.clock.advance(timedelta(days=3))
    send(stats_client, members["m2"], "c3")  # outside the range asked below

    answer = stats_client.get(MANAGER, params={"from": "2030-01-01", "to": "2030-01-02"},
                              headers=manager_token("viewer", BRAND))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["sent"], body["delivered"], body["opened"]) == (3, 2, 1) and body["rates"]["openRate"] == 0.5
    by_member = {row["memberId"]: counters(row) for row in body["byMember"]}
    assert by_member == {"m1": {**ZERO, "sent": 2, "delivered": 1}, "m2": {**ZERO, "sent": 1, "delivered": 1,
                                                                          "opened": 1}}
    assert stats_client.get(MANAGER, headers=members["m1"]).status_code == 401


def test_counter_documents_are_patched_not_rebuilt(container, stats_client):
    # The dashboards read two small documents, whatever the number of contacts or events.
    store = container.store.for_brand(BRAND)
    now = container.clock.now()
    campaign_stats.record_sent(store=store, campaign_id="c1", member_id="m1", sent_at=now, count=5)
    campaign_stats.record_sent(store=store, campaign_id="c1", member_id="m1", sent_at=now, count=2)
    assert store.get("campaigns", campaign_stats.campaign_stats_id("c1"))["sent"] == 7
    day_doc = store.get("campaigns", campaign_stats.member_day_id("m1", "2030-01-01"))
    assert (day_doc["sent"], day_doc["memberId"], day_doc["createdAt"]) == (7, "m1", "2030-01-01")
    assert campaign_stats.record_event(store=store, event="open", campaign_id="unknown", contact_id="x") is False

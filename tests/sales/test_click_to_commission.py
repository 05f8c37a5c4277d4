"""Issue 6 end to end, through the real routes and the queue function: a shared link is clicked, a
bot fetches it, the site reports a page view, orders arrive within and after the window."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.ports.store import Filter
from shared.tracking import aggregator, counters, reference, visits
from tests.identity.test_profile_api import add_member, app_headers
from tests.integrations.brand_platform import create_brand, signed_call

BRAND = "acme"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
SITE = "https://shop.acme.com"


@pytest.fixture
def world(container, manager_token):
    from functions.http_api.app import create_app

    with TestClient(create_app(container.settings), follow_redirects=False) as client:
        key = create_brand(client, manager_token, BRAND, allowedDomains=["acme.com"], widgetAllowedOrigins=[SITE],
                           commissionRules=[{"kind": "percentage", "ratePercent": 10}])
        member = app_headers(container, add_member(container, brand_id=BRAND, member_id="m1"))
        yield client, key, member


def drain(container) -> list:
    """Every message on the tracking queue (left unsettled: the test delivers them itself)."""
    return container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=100)


def order(client, container, key, order_id, **fields):
    container.clock.advance(timedelta(seconds=1))
    body = {"orderId": order_id, "channel": "online", "placedAt": container.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "currency": "EUR", "amountMinor": 20000, "lines": [{"sku": "S1", "quantity": 1, "amountMinor": 20000}],
            **fields}
    response = signed_call(client, "POST", f"/api/v1/integrations/{BRAND}/orders", key=key,
                           now=container.clock.now(), body=body)
    assert response.status_code == 201, response.text
    return response.json()


def member_totals(container) -> dict:
    docs = container.store.for_brand(BRAND).query_all(counters.CONTAINER, filters=[Filter("memberId", "=", "m1")])
    return counters.totals(doc for doc in docs if doc["source"] != counters.ALL)  # details, not day totals


def test_a_click_is_counted_once_and_attributes_orders_within_the_window_only(world, container):
    client, key, member = world
    link = client.post(f"/api/v1/app/{BRAND}/links", headers=member,
                       json={"source": "whatsapp", "target": {"kind": "product", "url": "https://www.acme.com/p/42"}})
    assert link.status_code == 201, link.text
    code = link.json()["code"]

    # A link preview fetcher: redirected to the target, without a reference, not counted.
    preview = client.get(f"/t/{code}", headers={"User-Agent": "WhatsApp/2.23.20.0 A"})
    assert preview.status_code == 302 and "popsell_ref" not in preview.headers["location"]
    # A person: redirected with a signed reference, one visit on the queue.
    click = client.get(f"/t/{code}", headers={"User-Agent": BROWSER})
    assert click.status_code == 302
    location = click.headers["location"]
    assert location.startswith("https://www.acme.com/p/42?popsell_ref=")
    ref = parse_qs(urlsplit(location).query)["popsell_ref"][0]
    assert reference.verify(container.settings.hash_master_key, BRAND, ref).code == code

    messages = drain(container)
    assert [m.body["type"] for m in messages] == ["visit"]
    aggregator.aggregate(container=container, messages=messages)
    aggregator.aggregate(container=container, messages=messages)  # delivered twice: still counted once
    assert member_totals(container)["clicks"] == 1

    # The brand's site reports the landing with the reference and its temporary visitor id.
    landing = client.post(f"/api/v1/widget/{BRAND}/events", headers={"Origin": SITE},
                          json={"type": "page_view", "reference": ref, "visitorId": "tmp-7f3a", "path": "/p/42"})
    assert landing.status_code == 202, landing.text
    aggregator.aggregate(container=container, messages=drain(container))
    visitor_key = container.hasher(BRAND)("visitor", "tmp-7f3a")
    assert visits.last_visit(store=container.store.for_brand(BRAND), visitor_key=visitor_key,
                             since=container.clock.now() - timedelta(
        days=1), until=container.clock.now()) is not None

    # An order carrying the reference: attributed to the member, last click, commission 10 %.
    first = order(client, container, key, "o-1", attributionRef=ref)
    assert first["attribution"]["memberId"] == "m1" and first["attribution"]["reason"] == "last_click"
    assert first["commissionMinor"] == 2000
    # Ten days later, the same visitor orders without the reference: the visit record attributes it.
    container.clock.advance(timedelta(days=10))
    later = order(client, container, key, "o-2", visitorId="tmp-7f3a")
    assert later["attribution"]["reason"] == "last_click" and later["attribution"]["memberId"] == "m1"
    # After the brand's 180-day window, neither the reference nor the visit attributes anything.
    container.clock.advance(timedelta(days=171))
    expired = order(client, container, key, "o-3", attributionRef=ref, visitorId="tmp-7f3a")
    assert expired["attribution"]["reason"] == "none" and expired["attribution"]["memberId"] is None

    totals = member_totals(container)
    assert totals["orders"] == 2 and totals["salesMinor"] == {"EUR": 40000}
    assert totals["commissionMinor"] == {"EUR": 4000}


def test_a_shopper_known_by_customer_id_on_the_site_is_the_customer_of_the_order(world, container):
    client, key, member = world
    link = client.post(f"/api/v1/app/{BRAND}/links", headers=member,
                       json={"source": "email", "target": {"kind": "product", "url": "https://www.acme.com/p/7"}})
    click = client.get(f"/t/{link.json()['code']}", headers={"User-Agent": BROWSER})
    ref = parse_qs(urlsplit(click.headers["location"]).query)["popsell_ref"][0]
    landing = client.post(f"/api/v1/widget/{BRAND}/events", headers={"Origin": SITE},
                          json={"type": "page_view", "reference": ref, "customerId": "C-778899", "path": "/p/7"})
    assert landing.status_code == 202
    aggregator.aggregate(container=container, messages=drain(container))

    container.clock.advance(timedelta(days=3))
    placed = order(client, container, key, "o-c1", customerKey="C-778899")  # no reference: the brand's own id
    assert placed["attribution"]["reason"] == "last_click" and placed["attribution"]["memberId"] == "m1"

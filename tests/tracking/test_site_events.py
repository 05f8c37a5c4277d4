"""The site-events endpoint: checks, hashes and enqueues; nothing personal travels or is stored."""

from __future__ import annotations

import json

import pytest

from popsell.registry import queue_handlers
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.errors import Forbidden
from shared.messaging import worker
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.store_schema import CONTAINERS, PLATFORM_SCOPE
from shared.tracking import link_codes, reference, site_events, visits

BRAND = "acme"
URL = f"/api/v1/widget/{BRAND}/events"
ORIGIN = "https://shop.example"
CODE = "abcd1234"


@pytest.fixture
def brand(client, container):
    created, _ = brands.create(store=container.store, clock=container.clock,
                               data=BrandCreate(id=BRAND, name="Acme", widgetAllowedOrigins=[ORIGIN]))
    code = link_codes.LinkCode(code=CODE, brand=BRAND, link_id="l1", member_id="m1", source="email",
                               target_kind="url", url="https://shop.example/")
    container.store.for_brand(PLATFORM_SCOPE).create(link_codes.CONTAINER, link_codes.to_document(code))
    return created


def queued(container):
    messages = container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=32)
    for message in messages:
        container.bus.abandon(QUEUE_TRACKING_EVENTS, message)
    return messages


def ref(container):
    return reference.sign(container.settings.hash_master_key, BRAND, code=CODE, click_id="click0001",
                          clicked_at=container.clock.now())


def test_one_event_is_enqueued_with_a_keyed_visitor_and_a_clean_path(client, container, brand):
    response = client.post(URL, headers={"Origin": ORIGIN}, json={
        "type": "page_view", "reference": ref(container), "customerId": "CUST-42", "visitorId": "tmp-visitor-1234",
        "path": "/products/shoe?email=zoe@example.com#top"})

    assert response.status_code == 202 and response.json() == {"accepted": 1}
    [message] = queued(container)
    assert message.body["type"] == "page_view" and message.body["path"] == "/products/shoe"
    # The customer ID wins over the temporary id: the same key an order of that customer will carry.
    assert message.body["visitorKey"] == container.hasher(BRAND)("customer_id", "CUST-42")


def test_a_batch_is_enqueued_and_client_event_ids_make_retries_idempotent(client, container, brand):
    batch = [{"type": "page_view", "eventId": "evt-00000001", "visitorId": "tmp-visitor-1234"},
             {"type": "product_pick", "productId": "sku-1", "memberId": "m1"}]
    assert client.post(URL, json=batch).json() == {"accepted": 2}
    assert client.post(URL, json=batch[:1]).status_code == 202  # the tag retrying the same event

    messages = queued(container)
    assert sorted(message.body["type"] for message in messages) == ["page_view", "product_pick"]
    [page] = [message for message in messages if message.body["type"] == "page_view"]
    assert page.body["visitorKey"] == container.hasher(BRAND)("visitor", "tmp-visitor-1234")


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "click"}, "type"),
    ({"type": "product_pick"}, "productId"),
    ({"type": "page_view", "visitorId": "short"}, "visitorId"),
    ({"type": "page_view", "email": "zoe@example.com"}, "email"),
    ([{"type": "page_view"}, {"type": "page_view", "path": 3}], "1.path"),
    ([{"type": "page_view"}] * 21, "body"),
    ([], "body"),
    ("page_view", "body"),
])
def test_a_bad_body_is_refused_naming_the_field_and_nothing_is_enqueued(client, container, brand, body, field):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert "zoe@example.com" not in response.text
    assert queued(container) == []


def test_an_unknown_brand_is_404(client, brand):
    assert client.post("/api/v1/widget/nobody/events", json={"type": "page_view"}).status_code == 404


def test_an_origin_outside_the_brands_widget_origins_is_403(client, container, brand):
    response = client.post(URL, headers={"Origin": "https://evil.example"}, json={"type": "page_view"})
    assert response.status_code == 403
    assert queued(container) == []


def test_the_endpoint_itself_refuses_a_foreign_origin_but_lets_server_side_tags_in(brand):
    site_events.check_origin(brand, ORIGIN)
    site_events.check_origin(brand, None)  # a server-side tag: no Origin header
    with pytest.raises(Forbidden):
        site_events.check_origin(brand, "https://evil.example")


def test_one_address_is_rate_limited_with_retry_after(client, brand):
    limit = site_events.RATE_POLICY.max_failures
    statuses = [client.post(URL, json={"type": "page_view"}).status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [202] * limit
    response = client.post(URL, json={"type": "page_view"})
    assert statuses[limit] == 429 and response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_no_personal_data_travels_or_is_stored_for_an_affiliation_only_visitor(client, container, brand):
    raw = ("CUST-42", "tmp-visitor-1234", "testclient", "zoe@example.com")
    client.post(URL, json=[
        {"type": "page_view", "reference": ref(container), "customerId": "CUST-42", "path": "/?e=zoe@example.com"},
        {"type": "product_pick", "reference": ref(container), "visitorId": "tmp-visitor-1234", "productId": "sku"}])
    messages = container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=32)
    assert len(messages) == 2
    for message in messages:
        assert not any(value in json.dumps(message.body) for value in raw)

    handler = queue_handlers(container)[QUEUE_TRACKING_EVENTS]
    worker.handle_batch(container.bus, QUEUE_TRACKING_EVENTS, handler, messages)

    store = container.store.for_brand(BRAND)
    stored = {name: store.query_all(name) for name in CONTAINERS if name != "brands"}
    assert stored[visits.CONTAINER] and stored["tracking_counters"] and stored["throttles"]
    dumped = json.dumps(stored)
    assert not any(value in dumped for value in raw)
    [kept] = stored[visits.CONTAINER]
    assert set(kept) - {"_etag", "_ts", "brandId"} == {"id", "pk", "clickId", "visitorKey", "at", "memberId", "code",
                                                       "source", "targetKind", "internal", "ttl"}

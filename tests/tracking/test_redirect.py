"""`/t/{code}`: redirect with a signed reference, one visit event, bots and bad codes, cache lifetime."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from shared.brands import service as brands
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.ports.store import PatchOp
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import link_codes, messages, reference
from shared.tracking.redirect import CACHE_TTL_SECONDS
from tests.identity.test_profile_api import add_member, app_headers
from tests.tracking.test_links_api import BRAND, HOME, LINKS, create_link, make_brands

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
CLIENT_IP = "203.0.113.77"
TARGET = "https://shop.acme.com/p/42?color=red&popsell_ref=stale#reviews"


@pytest.fixture
def web(container):
    """A client from a real-looking address that does not follow redirects."""
    from functions.http_api import app as app_module

    make_brands(container)
    with TestClient(app_module.create_app(container.settings), follow_redirects=False,
                    client=(CLIENT_IP, 50000), headers={"User-Agent": BROWSER}) as test_client:
        yield test_client


@pytest.fixture
def member(container, web):
    return app_headers(container, add_member(container, member_id="m1"))


@pytest.fixture
def link(web, member):
    response = create_link(web, member, url=TARGET, source="instagram")
    assert response.status_code == 201
    return response.json()


def visits(container) -> list[dict]:
    received = container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=50)
    for message in received:
        assert message.message_id == f"visit:{message.body['eventId']}"
        container.bus.complete(QUEUE_TRACKING_EVENTS, message)
    return [message.body for message in received]


def test_a_click_lands_on_the_target_with_a_signed_reference_and_one_visit_event(web, container, link):
    response = web.get(f"/t/{link['code']}")
    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path, location.fragment) == \
        ("https", "shop.acme.com", "/p/42", "reviews")
    query = parse_qs(location.query)
    assert query["color"] == ["red"] and len(query[reference.QUERY_PARAMETER]) == 1  # the stale one is replaced
    ref = reference.verify(container.settings.hash_master_key, BRAND, query[reference.QUERY_PARAMETER][0])
    assert ref is not None and ref.code == link["code"] and ref.clicked_at == container.clock.now()

    [body] = visits(container)
    event = messages.parse(body)
    assert isinstance(event, messages.VisitEvent)
    assert body == messages.to_message(event).body  # the hot path's hand-built body is the contract's
    assert (event.event_id, event.brand_id, event.member_id, event.link_id) == (ref.click_id, BRAND, "m1", link["id"])
    assert (event.source, event.target_kind, event.internal, event.at) == \
        ("instagram", "product", False, container.clock.now())
    hasher = container.hasher(BRAND)
    assert event.ip_hash == hasher("ip", CLIENT_IP) and event.ua_hash == hasher("user_agent", BROWSER)
    assert CLIENT_IP not in str(body) and "Chrome" not in str(body)


def test_each_click_is_its_own_visit(web, container, link):
    first, second = (web.get(f"/t/{link['code']}").headers["location"] for _ in range(2))
    assert first != second
    assert len({body["eventId"] for body in visits(container)}) == 2


@pytest.mark.parametrize("user_agent", [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "",
])
def test_a_bot_is_redirected_to_the_target_without_reference_nor_visit(web, container, link, user_agent):
    response = web.get(f"/t/{link['code']}", headers={"User-Agent": user_agent})
    assert response.status_code == 302 and response.headers["location"] == TARGET
    assert visits(container) == []


def test_a_head_request_is_redirected_but_not_counted(web, container, link):
    response = web.head(f"/t/{link['code']}")
    assert response.status_code == 302 and response.headers["location"] == TARGET
    assert visits(container) == []


@pytest.mark.parametrize("code", ["Zz99999", "no-such-code!", "a" * 40, "abc"])
def test_an_unknown_code_goes_to_the_platform_fallback(web, container, code):
    response = web.get(f"/t/{code}")
    assert response.status_code == 302 and response.headers["location"] == container.settings.link_fallback_url
    assert visits(container) == []


def test_a_disabled_link_goes_to_the_brands_home_page_uncounted(web, container, member, link):
    web.patch(f"{LINKS}/{link['id']}", headers=member, json={"status": "disabled"})
    response = web.get(f"/t/{link['code']}")  # at once on the instance that disabled it
    assert response.status_code == 302 and response.headers["location"] == HOME
    assert visits(container) == []
    web.patch(f"{LINKS}/{link['id']}", headers=member, json={"status": "active"})
    assert web.get(f"/t/{link['code']}").headers["location"].startswith("https://shop.acme.com/p/42?")


def test_a_link_of_a_suspended_brand_goes_home_and_without_home_page_to_the_fallback(web, container, link):
    brands.set_status(store=container.store, clock=container.clock, brand_id=BRAND, status="suspended")
    container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))
    assert web.get(f"/t/{link['code']}").headers["location"] == HOME
    platform = container.store.for_brand(PLATFORM_SCOPE)
    platform.patch("brands", BRAND, [PatchOp("remove", "homeUrl")])
    container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))
    assert web.get(f"/t/{link['code']}").headers["location"] == container.settings.link_fallback_url
    assert visits(container) == []


def test_a_link_disabled_elsewhere_stops_within_the_cache_lifetime(web, container, link):
    assert web.get(f"/t/{link['code']}").headers["location"].startswith("https://shop.acme.com/")
    # Another instance disables it: this one keeps its cached answer until the lifetime ends.
    platform = container.store.for_brand(PLATFORM_SCOPE)
    platform.patch(link_codes.CONTAINER, link["code"], [PatchOp("set", "status", "disabled")],
                   pk=link_codes.partition(link["code"]))
    container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS - 1))
    assert web.get(f"/t/{link['code']}").headers["location"].startswith("https://shop.acme.com/")
    container.clock.advance(timedelta(seconds=2))
    assert web.get(f"/t/{link['code']}").headers["location"] == HOME


def test_an_unknown_code_is_cached_too_so_floods_do_not_reach_the_store(web, container, link):
    code = "Later77"
    assert web.get(f"/t/{code}").headers["location"] == container.settings.link_fallback_url
    doc = container.store.for_brand(PLATFORM_SCOPE).get(link_codes.CONTAINER, link["code"],
                                                        pk=link_codes.partition(link["code"]))
    container.store.for_brand(PLATFORM_SCOPE).create(
        link_codes.CONTAINER, {key: value for key, value in doc.items() if key not in {"_etag", "brandId"}}
        | {"id": code, "pk": link_codes.partition(code)})
    assert web.get(f"/t/{code}").headers["location"] == container.settings.link_fallback_url
    container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))
    assert web.get(f"/t/{code}").headers["location"].startswith("https://shop.acme.com/")


@pytest.mark.parametrize(("params", "headers", "internal"), [
    ({}, {}, False),
    ({"via": "app"}, {}, True),
    ({"via": "widget"}, {}, True),
    ({"via": "newsletter"}, {}, False),
    ({}, {"Referer": "https://shop.acme.com/p/7?x=1"}, True),     # a widget origin of the brand
    ({}, {"Origin": "https://shop.acme.com"}, True),
    ({}, {"Referer": "https://app.popsell.com/acme/feed"}, True),  # the App
    ({}, {"Referer": "https://www.facebook.com/"}, False),
])
def test_clicks_from_the_app_or_a_widget_are_internal(web, container, link, params, headers, internal):
    response = web.get(f"/t/{link['code']}", params=params, headers=headers)
    assert "via" not in urlsplit(response.headers["location"]).query
    [body] = visits(container)
    assert body["internal"] is internal


def test_a_failed_enqueue_still_redirects_and_logs_ids_only(web, container, link, monkeypatch, caplog):
    def broken(queue, messages):
        raise ConnectionError(f"bus down while sending {messages}")

    monkeypatch.setattr(container.bus, "send", broken)
    with caplog.at_level(logging.WARNING):
        response = web.get(f"/t/{link['code']}")
    assert response.status_code == 302 and reference.QUERY_PARAMETER in response.headers["location"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert link["code"] in logged and link["id"] in logged
    assert CLIENT_IP not in caplog.text and "bus down" not in caplog.text


def test_an_erased_members_links_lead_to_the_brands_home_page(web, container, link, clock):
    from shared.gdpr import erasure

    erasure.erase_member(store=container.store.for_brand(BRAND), blobs=container.blobs, events=container.events,
                         hasher=container.hasher(BRAND), member_id="m1", now=clock.now(), rule="member_unsubscribed")
    clock.advance(timedelta(seconds=CACHE_TTL_SECONDS + 1))  # other instances' caches expire

    response = web.get(f"/t/{link['code']}")
    assert response.headers["location"] == HOME
    assert visits(container) == []

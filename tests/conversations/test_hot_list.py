"""The hot list and the conversation hook, through the API: site events scored with their reasons,
one member canvassing a visitor at a time, the bubble in the widget, the click a hook request."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from popsell.registry import queue_handlers
from shared.conversations import hooks, hot_list
from shared.messaging import worker
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.tracking import site_events
from shared.tracking.events import VisitorBrowsed
from tests.conversations.conftest import APP, BRAND, OTHER, WIDGET
from tests.events.test_dispatcher import drain
from tests.races import in_parallel

TAG = "tag-visitor-0001"


def browse(chat, *events, visitor_id: str = TAG, customer_id: str | None = None) -> None:
    """The site tag posts these events (page paths, or {"pick": id} / {"path":..., "productId":...}) one
    second apart, and the tracking queue runs them."""
    who = {"customerId": customer_id} if customer_id else {"visitorId": visitor_id}
    for event in events:
        chat.container.clock.advance(timedelta(seconds=1))
        if isinstance(event, str):
            body = {"type": "page_view", "path": event}
        elif "pick" in event:
            body = {"type": "product_pick", "productId": event["pick"]}
        else:
            body = {"type": "page_view", **event}
        answer = chat.client.post(f"{WIDGET}/events", json={**body, **who})
        assert answer.status_code == 202, answer.text
    run_tracking(chat.container)


def run_tracking(container) -> None:
    handler = queue_handlers(container)[QUEUE_TRACKING_EVENTS]
    while messages := container.bus.receive(QUEUE_TRACKING_EVENTS, max_messages=50):
        for message in messages:
            worker.handle(container.bus, QUEUE_TRACKING_EVENTS, handler, message)


def hot(chat, member) -> list[dict]:
    answer = chat.client.get(f"{APP}/hot-list", headers=member)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def hook_of(chat, visitor_id: str = TAG) -> dict | None:
    answer = chat.client.get(f"{WIDGET}/hook", params={"visitorId": visitor_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["hook"]


def test_visitors_on_the_site_are_listed_likeliest_buyers_first_with_the_reasons(chat):
    member = chat.member()
    browse(chat, "/", {"path": "/p/bag?utm=x", "productId": "bag"}, {"path": "/p/hat", "productId": "hat"},
           {"pick": "bag"})
    chat.container.clock.advance(timedelta(minutes=3))
    browse(chat, "/cart")
    browse(chat, "/", visitor_id="tag-visitor-0002")

    first, second = hot(chat, member)
    assert first["score"] == 2 * 4 + 5 * 2 + 15 + 3 and second["score"] == 2
    assert {reason["signal"]: (reason["count"], reason["points"]) for reason in first["reasons"]} == {
        "pages": (4, 8), "productsViewed": (2, 10), "productsPicked": (1, 15), "minutesOnSite": (3, 3)}
    assert first["path"] == "/cart" and first["productsViewed"] == ["bag", "hat"]
    assert first["productsPicked"] == ["bag"] and first["visits"] == 1 and first["canvass"] is None


def test_a_visitor_gone_for_five_minutes_leaves_the_list_and_a_return_counts(chat):
    member = chat.member()
    browse(chat, "/", "/shoes")
    chat.container.clock.advance(timedelta(minutes=5))
    assert hot(chat, member) == []

    chat.container.clock.advance(timedelta(minutes=40))  # past the 30-minute visit gap: a second visit
    browse(chat, "/")
    (again,) = hot(chat, member)
    assert again["visits"] == 2
    assert {reason["signal"]: reason["points"] for reason in again["reasons"]} == {"pages": 2, "returning": 10}


def test_the_same_event_delivered_twice_counts_once(chat):
    key = site_events.visitor_key(chat.container.hasher(BRAND), customer_id=None, visitor_id=TAG)
    event = VisitorBrowsed(id="browsed-1", brand_id=BRAND, occurred_at=chat.container.clock.now(), visitor_key=key,
                           path="/")
    chat.container.events.publish(event)
    chat.container.events.publish(event)
    (doc,) = chat.container.store.for_brand(BRAND).query_all(hot_list.HOT_VISITORS)
    assert doc["session"]["pages"] == 1 and doc["visits"] == 1


def test_the_hot_list_holds_no_personal_data_and_expires(chat):
    browse(chat, {"path": "/account?email=ann@example.com"}, customer_id="CUST-778899")
    (doc,) = chat.container.store.for_brand(BRAND).query_all(hot_list.HOT_VISITORS)
    stored = json.dumps(doc)
    assert "CUST-778899" not in stored and "ann@example.com" not in stored and TAG not in stored
    assert doc["session"]["path"] == "/account" and doc["customer"] is True
    assert doc["ttl"] == int(timedelta(days=30).total_seconds())


def test_only_available_members_see_the_hot_list_and_each_brand_its_own(chat):
    browse(chat, "/")
    away = chat.member("m2", availability="offline")
    assert chat.client.get(f"{APP}/hot-list", headers=away).status_code == 403
    elsewhere = chat.member("g1", brand_id=OTHER)
    assert chat.client.get(f"/api/v1/app/{OTHER}/hot-list", headers=elsewhere).json()["items"] == []
    (visitor,) = hot(chat, chat.member())
    answer = chat.client.post(f"/api/v1/app/{OTHER}/hot-list/{visitor['id']}/canvass", headers=elsewhere, json={})
    assert answer.status_code == 404


def test_twenty_members_canvassing_one_visitor_leave_exactly_one_invitation(chat):
    browse(chat, "/")
    members = [chat.member(f"m{n}") for n in range(20)]
    (visitor,) = hot(chat, members[0])

    answers = in_parallel(20, lambda: chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass",
                                                       headers=members.pop(), json={"message": "Need help?"}))

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * 19, codes
    assert {answer.json()["type"].rsplit("/", 1)[-1] for answer in answers if answer.status_code == 409} == {
        "already-canvassed"}
    winner = next(answer.json() for answer in answers if answer.status_code == 201)
    assert hook_of(chat) == {"id": winner["id"], "memberId": winner["memberId"], "message": "Need help?",
                             "expiresAt": winner["expiresAt"]}


def test_a_click_on_the_bubble_is_a_hook_request_handled_at_once_by_the_member(chat):
    member = chat.member("m1")
    browse(chat, "/", {"path": "/p/bag", "productId": "bag"})
    (visitor,) = hot(chat, member)
    canvass = chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=member, json={}).json()
    assert hot(chat, member)[0]["canvass"]["memberId"] == "m1"

    browsing_only = chat.visitor(terms=False)
    body = {"hookId": canvass["id"], "visitorId": TAG, "context": {"pageUrl": "https://shop.example/p/bag"}}
    assert chat.client.post(f"{WIDGET}/conversations/hook", headers=browsing_only, json=body).status_code == 403
    someone_else = chat.visitor()
    stolen = chat.client.post(f"{WIDGET}/conversations/hook", headers=someone_else,
                              json={**body, "visitorId": "tag-visitor-9999"})
    assert stolen.status_code == 404

    visitor_headers = chat.visitor()
    answer = chat.client.post(f"{WIDGET}/conversations/hook", headers=visitor_headers, json=body)
    assert answer.status_code == 201, answer.text
    again = chat.client.post(f"{WIDGET}/conversations/hook", headers=visitor_headers, json=body)
    assert again.json() == answer.json()  # a retried click: the same conversation
    conversation_id = answer.json()["conversationId"]
    (entry,) = chat.client.get(f"{APP}/conversations", headers=member).json()["items"]
    assert entry["conversationId"] == conversation_id and entry["kind"] == "hook"
    (request,) = [doc for doc in chat.container.store.for_brand(BRAND).query_all("conversation_requests")]
    assert request["kind"] == "hook" and request["handledAt"] == request["createdAt"]
    assert hook_of(chat) is None  # the bubble is gone once answered

    drain(chat.container)
    metrics = chat.client.get(f"{APP}/conversation-metrics", headers=member).json()
    assert metrics["totals"]["newConversations"] == 1


def test_a_closed_bubble_is_not_shown_again_during_the_visit(chat):
    member = chat.member()
    browse(chat, "/")
    (visitor,) = hot(chat, member)
    canvass = chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=member, json={}).json()
    closed = chat.client.delete(f"{WIDGET}/hook/{canvass['id']}", params={"visitorId": TAG})
    assert closed.status_code == 204 and hook_of(chat) is None
    assert chat.client.delete(f"{WIDGET}/hook/{canvass['id']}", params={"visitorId": "tag-visitor-9999"}
                              ).status_code == 404
    again = chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=chat.member("m2"), json={})
    assert again.status_code == 409 and again.json()["type"].endswith("hook-closed")

    chat.container.clock.advance(timedelta(minutes=31))
    browse(chat, "/")  # a new visit: a new invitation may be made
    assert chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=member, json={}).status_code == 201


def test_an_invitation_expires_after_ten_minutes(chat):
    member = chat.member()
    browse(chat, "/")
    (visitor,) = hot(chat, member)
    canvass = chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=member, json={}).json()
    chat.container.clock.advance(timedelta(minutes=4))
    browse(chat, "/next")
    chat.container.clock.advance(timedelta(minutes=6))
    assert hook_of(chat) is None
    answer = chat.client.post(f"{WIDGET}/conversations/hook", headers=chat.visitor(),
                              json={"hookId": canvass["id"], "visitorId": TAG})
    assert answer.status_code == 409 and answer.json()["type"].endswith("hook-closed")
    assert chat.container.store.for_brand(BRAND).query_all("conversations") == []


def test_a_click_that_crashed_before_closing_the_invitation_is_completed_by_its_retry(chat, monkeypatch):
    member = chat.member()
    browse(chat, "/")
    (visitor,) = hot(chat, member)
    canvass = chat.client.post(f"{APP}/hot-list/{visitor['id']}/canvass", headers=member, json={}).json()
    visitor_headers = chat.visitor()
    body = {"hookId": canvass["id"], "visitorId": TAG}
    real = hooks.update_document

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(hooks, "update_document", crash)
    with pytest.raises(RuntimeError):
        chat.client.post(f"{WIDGET}/conversations/hook", headers=visitor_headers, json=body)
    monkeypatch.setattr(hooks, "update_document", real)

    answer = chat.client.post(f"{WIDGET}/conversations/hook", headers=visitor_headers, json=body)
    assert answer.status_code == 201
    store = chat.container.store.for_brand(BRAND)
    assert len(store.query_all("conversations")) == 1 and len(store.query_all("conversation_requests")) == 1
    assert hook_of(chat) is None


def test_a_member_picking_a_product_to_share_is_no_visitor(chat):
    chat.member()
    chat.client.post(f"{WIDGET}/events", json={"type": "product_pick", "productId": "bag", "memberId": "m1",
                                                "visitorId": TAG})
    run_tracking(chat.container)
    assert chat.container.store.for_brand(BRAND).query_all(hot_list.HOT_VISITORS) == []

"""Conversation metrics: the glossary's definitions, right to the second on the settable clock, read from
counters the domain-events queue keeps (never from the messages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.conversations import jobs, metrics
from shared.identity import repository
from shared.ports.bus import QUEUE_DOMAIN_EVENTS
from tests.conversations.conftest import APP, BRAND, WIDGET
from tests.events.test_dispatcher import drain
from tests.identity.test_profile_api import add_member, app_headers

MANAGER = f"/api/v1/manager/brands/{BRAND}/conversation-metrics"
DAY1 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def metered(chat):
    chat.container.clock.set(DAY1)
    return chat


def post(chat, base, headers, conversation_id, client_id, text="hello"):
    answer = chat.client.post(f"{base}/conversations/{conversation_id}/messages", headers=headers,
                              json={"clientMessageId": client_id, "text": text})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def tick(chat, **delta):
    chat.container.clock.advance(timedelta(**delta))


def board(chat, headers, path=MANAGER, **query):
    drain(chat.container)
    answer = chat.client.get(path, headers=headers, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


def picked_up_conversation(chat, member, visitor, wait=30):
    request = chat.request(visitor)
    tick(chat, seconds=wait)
    answer = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    assert answer.status_code == 200, answer.text
    return answer.json()["conversationId"]


def test_a_waiting_list_conversation_gives_every_time_of_the_glossary(metered, manager_token):
    chat = metered
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor, wait=30)  # handled 30 s after the request
    tick(chat, seconds=10)
    post(chat, APP, member, conversation, "member-0001")                     # start + 10 s
    tick(chat, seconds=25)
    post(chat, WIDGET, visitor, conversation, "visitor-0001")                # start + 35 s: the dialogue
    tick(chat, seconds=20)
    post(chat, APP, member, conversation, "member-0002")                     # start + 55 s: the last message

    figures = board(chat, manager_token("viewer", BRAND), **{"from": "2026-03-10", "to": "2026-03-10"})
    totals = figures["totals"]
    assert (totals["requests"], totals["handled"], totals["newConversations"], totals["activeConversations"],
            totals["newDialogues"], totals["activeDialogues"], totals["messages"]) == (1, 1, 1, 1, 1, 1, 3)
    assert totals["handlingTime"] == {"count": 1, "averageSeconds": 30.0, "totalSeconds": 30.0}
    assert totals["timeToDialogue"]["averageSeconds"] == 35.0
    assert totals["totalDialogueConversionTime"]["averageSeconds"] == 65.0   # request to dialogue
    assert totals["dialogueDuration"]["averageSeconds"] == 55.0              # start to the last message
    assert (totals["memberMessages"], totals["visitorMessages"]) == (2, 1)
    assert [day["day"] for day in figures["days"]] == ["2026-03-10"]


def test_an_active_conversation_of_several_days_counts_once_in_a_period(metered, manager_token):
    chat = metered
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001")
    tick(chat, seconds=5)
    post(chat, WIDGET, visitor, conversation, "visitor-0001")   # a dialogue of 5 s on day 1
    chat.container.clock.set(DAY1 + timedelta(days=2, hours=1))
    member = app_headers(chat.container, repository.get_member(store=chat.container.store.for_brand(BRAND),
                                                               member_id="m1")[0], brand_id=BRAND)
    post(chat, APP, member, conversation, "member-0002")   # resumed two days later
    viewer = manager_token("viewer", BRAND)

    both = board(chat, viewer, **{"from": "2026-03-10", "to": "2026-03-12"})
    assert both["totals"]["activeConversations"] == 1 and both["totals"]["activeDialogues"] == 1
    assert both["totals"]["newConversations"] == 1 and both["totals"]["newDialogues"] == 1
    assert [(day["day"], day["activeConversations"]) for day in both["days"]] == [("2026-03-10", 1),
                                                                                 ("2026-03-12", 1)]
    # Its duration in the period: from its start to its last message in the period.
    assert both["totals"]["dialogueDuration"]["averageSeconds"] == 2 * 86400 + 3600 - 30  # it started 30 s after 09:00
    first_day = board(chat, viewer, **{"from": "2026-03-10", "to": "2026-03-10"})
    assert first_day["totals"]["dialogueDuration"]["averageSeconds"] == 5.0
    last_day = board(chat, viewer, **{"from": "2026-03-12", "to": "2026-03-12"})
    assert (last_day["totals"]["newConversations"], last_day["totals"]["activeConversations"]) == (0, 1)


def test_a_conversation_without_a_message_is_new_but_not_active(metered, manager_token):
    chat = metered
    picked_up_conversation(chat, chat.member(), chat.visitor())
    totals = board(chat, manager_token("viewer", BRAND))["totals"]
    assert (totals["newConversations"], totals["activeConversations"], totals["newDialogues"]) == (1, 0, 0)


def test_ongoing_conversations_had_a_message_in_the_past_five_minutes(metered, manager_token):
    chat = metered
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, WIDGET, visitor, conversation, "visitor-0001")
    viewer = manager_token("viewer", BRAND)
    tick(chat, minutes=5)
    assert board(chat, viewer)["ongoing"] == 1
    assert board(chat, member, path=f"{APP}/conversation-metrics")["ongoing"] == 1
    tick(chat, seconds=1)
    assert board(chat, viewer)["ongoing"] == 0


def test_an_abandoned_request_counts_once_on_its_day_before_and_after_the_sweep(metered, manager_token):
    chat = metered
    chat.container.clock.set(DAY1.replace(hour=23, minute=50))
    chat.request(chat.visitor())                                     # abandoned at 00:05 the next day
    cancelled = chat.request(chat.visitor())
    assert chat.client.delete(f"{WIDGET}/conversations/requests/{cancelled['id']}",
                              headers=chat.visitor()).status_code == 404  # only its own visitor cancels
    viewer = manager_token("viewer", BRAND)
    tick(chat, minutes=15)
    live = board(chat, viewer, **{"from": "2026-03-10", "to": "2026-03-11"})
    assert live["totals"]["abandoned"] == 2
    assert [(day["day"], day["abandoned"]) for day in live["days"]] == [("2026-03-10", 0), ("2026-03-11", 2)]
    report = jobs.JOBS[0].run(chat.container, False)
    assert report["abandoned"] == 2
    swept = board(chat, viewer, **{"from": "2026-03-10", "to": "2026-03-11"})
    assert swept["totals"]["abandoned"] == 2 and swept["totals"]["requests"] == 2
    assert jobs.JOBS[0].run(chat.container, False)["abandoned"] == 0


def test_the_sweep_makes_a_request_abandoned_for_its_visitor_and_for_members(metered):
    chat = metered
    visitor = chat.visitor()
    request = chat.request(visitor)
    tick(chat, minutes=16)
    jobs.JOBS[0].run(chat.container, False)
    seen = chat.client.get(f"{WIDGET}/conversations/requests/{request['id']}", headers=visitor).json()
    assert seen["state"] == "abandoned" and seen["abandoned"] is True
    assert seen["abandonedAt"].startswith("2026-03-10T09:15:00")
    picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=chat.member())
    assert picked.status_code == 409 and "abandoned" in picked.json()["detail"]


def test_cancelled_requests_are_counted(metered, manager_token):
    chat = metered
    visitor = chat.visitor()
    request = chat.request(visitor)
    assert chat.client.delete(f"{WIDGET}/conversations/requests/{request['id']}", headers=visitor).status_code == 204
    totals = board(chat, manager_token("viewer", BRAND))["totals"]
    assert (totals["requests"], totals["cancelled"], totals["handled"], totals["newConversations"]) == (1, 1, 0, 0)


def test_direct_and_in_store_conversations_have_no_handling_time(metered, manager_token, container):
    chat = metered
    member = add_member(container, brand_id=BRAND, member_id="m9", directory={"listed": True})
    headers = app_headers(container, member, brand_id=BRAND, ttl=timedelta(hours=2))
    visitor = chat.visitor()
    direct = chat.client.post(f"{WIDGET}/conversations/direct", headers=visitor, json={"memberId": "m9"})
    assert direct.status_code == 201, direct.text
    code = chat.client.post(f"{APP}/conversations/in-store-code", headers=headers).json()["code"]
    in_store = chat.client.post(f"{WIDGET}/conversations/in-store", headers=chat.visitor() | {}, json={"code": code})
    assert in_store.status_code == 201, in_store.text
    other_visitor = chat.visitor()
    met = chat.client.post(f"{WIDGET}/conversations/in-store", headers=other_visitor, json={"code": code}).json()
    post(chat, WIDGET, other_visitor, met["conversationId"], "visitor-0001")
    tick(chat, seconds=12)
    post(chat, APP, headers, met["conversationId"], "member-0001")
    totals = board(chat, manager_token("viewer", BRAND))["totals"]
    assert totals["newConversationsByKind"] == {"direct": 1, "in_store": 2}
    assert totals["requestsByKind"] == {"direct": 1} and totals["handled"] == 1
    assert totals["handlingTime"]["count"] == 0
    assert totals["timeToDialogue"]["averageSeconds"] == 12.0
    # An in-store conversation had no request: no conversion time.
    assert totals["totalDialogueConversionTime"]["count"] == 0


def test_each_member_and_store_sees_their_own_figures(metered, manager_token, container):
    chat = metered
    ana = add_member(container, brand_id=BRAND, member_id="ana", availability="online", home_shop_id="lyon-1")
    bob = add_member(container, brand_id=BRAND, member_id="bob", availability="online", home_shop_id="paris-2")
    ana_h, bob_h = (app_headers(container, m, brand_id=BRAND, ttl=timedelta(hours=2)) for m in (ana, bob))
    for headers in (ana_h, ana_h, bob_h):
        conversation = picked_up_conversation(chat, headers, chat.visitor(), wait=10)
        post(chat, APP, headers, conversation, "member-0001")
    mine = board(chat, ana_h, path=f"{APP}/conversation-metrics")
    assert (mine["scope"], mine["scopeId"], mine["totals"]["newConversations"]) == ("member", "ana", 2)
    assert mine["totals"]["handlingTime"] == {"count": 2, "averageSeconds": 10.0, "totalSeconds": 20.0}
    viewer = manager_token("viewer", BRAND)
    assert board(chat, viewer, memberId="bob")["totals"]["newConversations"] == 1
    container.store.for_brand(BRAND).create("stores", {"id": "lyon-1", "name": "Lyon", "status": "active"})
    assert board(chat, viewer, storeId="lyon-1")["totals"]["activeConversations"] == 2
    assert board(chat, viewer)["totals"]["newConversations"] == 3
    assert chat.client.get(MANAGER, headers=viewer, params={"storeId": "nowhere"}).status_code == 404
    assert chat.client.get(MANAGER, headers=viewer, params={"memberId": "nobody"}).status_code == 404
    both = chat.client.get(MANAGER, headers=viewer, params={"memberId": "ana", "storeId": "lyon-1"})
    assert both.status_code == 422 and both.headers["content-type"] == "application/problem+json"
    assert chat.client.get(MANAGER, headers=manager_token("viewer", "globex")).status_code in (403, 404)


def test_a_redelivered_event_changes_no_figure(metered, manager_token):
    chat = metered
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001")
    post(chat, WIDGET, visitor, conversation, "visitor-0001")
    bus, viewer = chat.container.bus, manager_token("viewer", BRAND)
    while delivered := bus.receive(QUEUE_DOMAIN_EVENTS, max_messages=100):
        for message in delivered:
            chat.container.events.deliver(message)
            chat.container.events.deliver(message)  # the queue delivers at least once: here twice
            bus.complete(QUEUE_DOMAIN_EVENTS, message)
    totals = board(chat, viewer)["totals"]
    assert (totals["newConversations"], totals["messages"], totals["newDialogues"], totals["handled"]) == (1, 2, 1, 1)


def test_a_crash_between_the_decision_and_the_counters_is_finished_by_the_redelivery(metered, manager_token,
                                                                                        monkeypatch):
    chat = metered
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001")
    real, calls = metrics.apply, []

    def crash_after_the_first_scope(*, store, scopes, change, deltas):
        calls.append(change)
        if len(calls) == 1:
            real(store=store, scopes=scopes[:1], change=change, deltas=deltas)
            raise RuntimeError("killed")
        real(store=store, scopes=scopes, change=change, deltas=deltas)

    drain(chat.container)
    monkeypatch.setattr(metrics, "apply", crash_after_the_first_scope)
    post(chat, WIDGET, visitor, conversation, "visitor-0001")
    drain(chat.container)  # the first delivery fails after the brand's counters; the retry finishes
    monkeypatch.setattr(metrics, "apply", real)
    viewer = manager_token("viewer", BRAND)
    brand, mine = board(chat, viewer)["totals"], board(chat, viewer, memberId="m1")["totals"]
    assert brand["messages"] == mine["messages"] == 2
    assert brand["newDialogues"] == mine["newDialogues"] == 1

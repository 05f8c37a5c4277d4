"""The waiting list: visitors queue (after the service terms), see their place and a wait estimate,
cancel; available members see it oldest first and pick a request up, exactly one winning a race."""

from __future__ import annotations

from datetime import timedelta

from shared.conversations import requests
from tests.conversations.conftest import APP, OTHER, WIDGET
from tests.races import in_parallel


def test_a_visitor_without_the_service_terms_cannot_ask_for_a_conversation(chat):
    visitor = chat.visitor(terms=False)
    answer = chat.client.post(f"{WIDGET}/conversations/requests", headers=visitor, json={})
    assert answer.status_code == 403 and answer.headers["content-type"] == "application/problem+json"


def test_visitors_queue_in_order_and_see_their_place(chat):
    first, second = chat.visitor(), chat.visitor()
    one = chat.request(first, pageUrl="https://shop.example/p/bag", productId="bag")
    chat.container.clock.advance(timedelta(seconds=5))
    two = chat.request(second)
    assert (one["position"], two["position"]) == (1, 2)
    assert one["state"] == "pending" and one["context"] == {"pageUrl": "https://shop.example/p/bag",
                                                           "productId": "bag"}
    again = chat.request(first)  # asking again while waiting: the same request
    assert again["id"] == one["id"]
    listed = chat.client.get(f"{APP}/waiting-list", headers=chat.member()).json()["items"]
    assert [item["id"] for item in listed] == [one["id"], two["id"]]


def test_the_wait_estimate_follows_recent_handling_times(chat):
    member = chat.member()
    for wait in (30, 60, 90):
        request = chat.request(chat.visitor())
        chat.container.clock.advance(timedelta(seconds=wait))
        picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
        assert picked.status_code == 200, picked.text
    chat.request(chat.visitor())
    chat.container.clock.advance(timedelta(seconds=1))
    waiting = chat.request(chat.visitor())
    assert (waiting["position"], waiting["estimatedWaitSeconds"]) == (2, 120)  # the median, 60 s, twice


def test_a_pick_up_starts_the_conversation_and_the_visitor_sees_it(chat):
    visitor = chat.visitor()
    request = chat.request(visitor)
    member = chat.member()
    picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    assert picked.status_code == 200, picked.text
    conversation_id = picked.json()["conversationId"]
    seen = chat.client.get(f"{WIDGET}/conversations/requests/{request['id']}", headers=visitor).json()
    assert (seen["state"], seen["handledBy"], seen["conversationId"]) == ("handled", "m1", conversation_id)
    assert chat.client.get(f"{APP}/waiting-list", headers=member).json()["items"] == []
    inbox = chat.client.get(f"{WIDGET}/conversations", headers=visitor).json()["items"]
    assert [(entry["conversationId"], entry["other"]) for entry in inbox] == [
        (conversation_id, {"kind": "member", "id": "m1"})]
    again = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    assert again.json()["conversationId"] == conversation_id  # the winner's retry


def test_fifty_members_racing_for_one_request_leave_exactly_one_winner(chat):
    request = chat.request(chat.visitor())
    members = [chat.member(f"m{n}") for n in range(50)]

    answers = in_parallel(50, lambda: chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up",
                                                       headers=members.pop()))

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * 49, codes
    losers = [answer.json() for answer in answers if answer.status_code == 409]
    assert {loser["type"].rsplit("/", 1)[-1] for loser in losers} == {"already-taken"}
    stored = chat.container.store.for_brand("acme").query_all("conversations")
    assert len(stored) == 1


def test_only_available_members_pick_up(chat):
    request = chat.request(chat.visitor())
    offline = chat.member("m9", availability="offline")
    answer = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=offline)
    assert answer.status_code == 403


def test_a_visitor_cancels_and_a_request_nobody_takes_is_abandoned(chat):
    visitor = chat.visitor()
    request = chat.request(visitor)
    assert chat.client.delete(f"{WIDGET}/conversations/requests/{request['id']}", headers=visitor).status_code == 204
    member = chat.member()
    taken = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    assert taken.status_code == 409

    late = chat.request(chat.visitor())
    chat.container.clock.advance(timedelta(minutes=15))
    assert chat.client.get(f"{APP}/waiting-list", headers=member).json()["items"] == []
    gone = chat.client.post(f"{APP}/waiting-list/{late['id']}/pick-up", headers=member)
    assert gone.status_code == 409


def test_a_handled_request_cannot_be_cancelled_and_others_requests_are_404(chat):
    visitor = chat.visitor()
    request = chat.request(visitor)
    chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=chat.member())
    assert chat.client.delete(f"{WIDGET}/conversations/requests/{request['id']}", headers=visitor).status_code == 409
    stranger = chat.visitor()
    assert chat.client.get(f"{WIDGET}/conversations/requests/{request['id']}", headers=stranger).status_code == 404
    other_brand = chat.member("o1", brand_id=OTHER)
    answer = chat.client.post(f"/api/v1/app/{OTHER}/waiting-list/{request['id']}/pick-up", headers=other_brand)
    assert answer.status_code == 404


def test_a_crash_between_the_pick_up_and_the_conversation_is_completed_by_the_retry(chat, monkeypatch):
    request = chat.request(chat.visitor())
    member = chat.member()

    def crash(**_):
        raise RuntimeError("killed after the request was handled")

    monkeypatch.setattr(requests.conversations, "start", crash)
    try:
        chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    except RuntimeError:
        pass
    monkeypatch.undo()
    assert chat.container.store.for_brand("acme").query_all("conversations") == []
    retried = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member)
    assert retried.status_code == 200
    assert len(chat.container.store.for_brand("acme").query_all("inbox")) == 2


def test_a_direct_request_starts_a_conversation_with_the_chosen_member_and_resumes_it(chat):
    from shared.identity import profiles

    member = chat.member("m1")
    store = chat.container.store.for_brand("acme")
    visitor = chat.visitor()
    started = chat.client.post(f"{WIDGET}/conversations/direct", headers=visitor,
                               json={"memberId": "m1", "context": {"pageUrl": "https://shop.example/p/bag"}})
    assert started.status_code == 201, started.text
    conversation = started.json()["conversationId"]
    again = chat.client.post(f"{WIDGET}/conversations/direct", headers=visitor, json={"memberId": "m1"})
    assert again.json()["conversationId"] == conversation  # endless: the same conversation resumes
    stored = store.get("conversations", conversation)
    assert stored["kind"] == "direct" and stored["startedAt"] == stored["requestedAt"]
    listed = chat.client.get(f"{APP}/conversations", headers=member).json()["items"]
    assert [entry["conversationId"] for entry in listed] == [conversation]

    profiles.update(store=store, member_id="m1", changes=profiles.ProfileUpdate(
        visibility=profiles.VisibilityUpdate(hide_from_community=True)), now=chat.container.clock.now())
    other = chat.visitor()
    hidden = chat.client.post(f"{WIDGET}/conversations/direct", headers=other, json={"memberId": "m1"})
    assert hidden.status_code == 404
    unknown = chat.client.post(f"{WIDGET}/conversations/direct", headers=other, json={"memberId": "nobody"})
    assert unknown.status_code == 404
    no_terms = chat.client.post(f"{WIDGET}/conversations/direct", headers=chat.visitor(terms=False),
                                json={"memberId": "m1"})
    assert no_terms.status_code == 403


def test_a_visitor_scanning_a_members_store_code_starts_an_in_store_conversation(chat):
    member = chat.member("m1")
    code = chat.client.post(f"{APP}/conversations/in-store-code", headers=member).json()
    from shared.clock import parse_instant

    assert parse_instant(code["expiresAt"]) == chat.container.clock.now() + timedelta(minutes=10)
    visitor = chat.visitor()
    started = chat.client.post(f"{WIDGET}/conversations/in-store", headers=visitor, json={"code": code["code"]})
    assert started.status_code == 201, started.text
    conversation = chat.container.store.for_brand("acme").get("conversations", started.json()["conversationId"])
    assert conversation["kind"] == "in_store" and conversation["requestedAt"] is None  # face to face: no request
    again = chat.client.post(f"{WIDGET}/conversations/in-store", headers=visitor, json={"code": code["code"]})
    assert again.json() == started.json()

    chat.container.clock.advance(timedelta(minutes=11))
    late = chat.client.post(f"{WIDGET}/conversations/in-store", headers=chat.visitor(), json={"code": code["code"]})
    assert late.status_code == 404
    forged = chat.client.post(f"{WIDGET}/conversations/in-store", headers=visitor, json={"code": "not-a-code"})
    assert forged.status_code == 404
    other = chat.member("o1", brand_id=OTHER)
    foreign = chat.client.post(f"/api/v1/app/{OTHER}/conversations/in-store-code", headers=other).json()["code"]
    crossed = chat.client.post(f"{WIDGET}/conversations/in-store", headers=chat.visitor(), json={"code": foreign})
    assert crossed.status_code == 404

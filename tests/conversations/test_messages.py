"""Messages of a conversation: posted once per client id, paged by cursor, counted unread for the other
party, read marks; only its parties see it; the dialogue's instants are kept for the metrics."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from shared.conversations import conversations
from tests.conversations.conftest import APP, WIDGET


@pytest.fixture
def talk(chat):
    visitor = chat.visitor()
    request = chat.request(visitor)
    member = chat.member()
    picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member).json()
    return chat, member, visitor, picked["conversationId"]


def say(chat, audience, headers, conversation_id, text, client_id=None):
    base = APP if audience == "app" else WIDGET
    answer = chat.client.post(f"{base}/conversations/{conversation_id}/messages", headers=headers,
                              json={"clientMessageId": client_id or "c-" + hashlib.sha1(text.encode()).hexdigest(),
                                    "text": text})
    assert answer.status_code == 201, answer.text
    return answer.json()


def inbox(chat, audience, headers):
    base = APP if audience == "app" else WIDGET
    return chat.client.get(f"{base}/conversations", headers=headers).json()["items"]


def test_messages_reach_the_other_party_unread_until_read(talk):
    chat, member, visitor, conversation = talk
    say(chat, "app", member, conversation, "Hello, how can I help?")
    chat.container.clock.advance(timedelta(seconds=3))
    second = say(chat, "app", member, conversation, "We have it in black too")

    assert [entry["unread"] for entry in inbox(chat, "widget", visitor)] == [2]
    assert [entry["unread"] for entry in inbox(chat, "app", member)] == [0]
    page = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()
    assert [item["text"] for item in page["items"]] == ["Hello, how can I help?", "We have it in black too"]
    read = chat.client.post(f"{WIDGET}/conversations/{conversation}/read", headers=visitor,
                            json={"upTo": second["seq"]})
    assert read.json() == {"unread": 0}
    assert [entry["unread"] for entry in inbox(chat, "widget", visitor)] == [0]


def test_a_retried_post_writes_one_message(talk):
    chat, member, visitor, conversation = talk
    first = say(chat, "widget", visitor, conversation, "Is it leather?", client_id="retry-0001")
    again = say(chat, "widget", visitor, conversation, "Is it leather?", client_id="retry-0001")
    assert first["id"] == again["id"]
    page = chat.client.get(f"{APP}/conversations/{conversation}/messages", headers=member).json()
    assert len(page["items"]) == 1
    assert [entry["unread"] for entry in inbox(chat, "app", member)] == [1]


def test_catching_up_by_cursor_and_paging_back(talk):
    chat, member, visitor, conversation = talk
    for n in range(5):
        say(chat, "app", member, conversation, f"message {n}")
        chat.container.clock.advance(timedelta(seconds=1))
    latest = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                             params={"pageSize": 2}).json()
    assert [item["text"] for item in latest["items"]] == ["message 3", "message 4"]
    earlier = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                              params={"pageSize": 2, "before": latest["cursor"]}).json()
    assert [item["text"] for item in earlier["items"]] == ["message 1", "message 2"]
    everything = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                                 params={"pageSize": 50}).json()
    since = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                            params={"after": everything["items"][2]["seq"]}).json()
    assert [item["text"] for item in since["items"]] == ["message 3", "message 4"]
    nothing_new = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                                  params={"after": since["cursor"]}).json()
    assert nothing_new["items"] == [] and nothing_new["cursor"] == since["cursor"]


def test_reading_up_to_a_message_leaves_the_later_ones_unread(talk):
    chat, member, visitor, conversation = talk
    for n in range(3):
        say(chat, "app", member, conversation, f"note {n}")
        chat.container.clock.advance(timedelta(seconds=1))
    messages = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()["items"]
    answer = chat.client.post(f"{WIDGET}/conversations/{conversation}/read", headers=visitor,
                              json={"upTo": messages[0]["seq"]})
    assert answer.json() == {"unread": 2}
    assert [entry["unread"] for entry in inbox(chat, "widget", visitor)] == [2]
    stored = chat.container.store.for_brand("acme").get("conversations", conversation)
    visitor_id = inbox(chat, "app", member)[0]["other"]["id"]
    assert stored["readSeq"][f"visitor:{visitor_id}"] == messages[0]["seq"]  # the member's read receipt


def test_the_dialogue_is_established_when_both_parties_wrote(talk):
    chat, member, visitor, conversation = talk
    store = chat.container.store.for_brand("acme")
    say(chat, "app", member, conversation, "Hi!")
    assert store.get("conversations", conversation)["dialogueAt"] is None
    chat.container.clock.advance(timedelta(seconds=42))
    say(chat, "widget", visitor, conversation, "Hello")
    stored = store.get("conversations", conversation)
    assert stored["dialogueAt"] == stored["firstMessageAt"]["visitor"]
    assert stored["messageCount"] == 2


def test_only_the_parties_see_a_conversation(talk):
    chat, member, visitor, conversation = talk
    stranger = chat.visitor()
    other_member = chat.member("m7")
    assert chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=stranger).status_code == 404
    assert chat.client.get(f"{APP}/conversations/{conversation}/messages", headers=other_member).status_code == 404
    posted = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=other_member,
                              json={"clientMessageId": "intruder-01", "text": "hi"})
    assert posted.status_code == 404
    bad = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member,
                           json={"clientMessageId": "x", "text": ""})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_a_crash_between_a_message_and_its_counts_is_completed_by_the_retry(talk, monkeypatch):
    chat, member, visitor, conversation = talk

    def crash(*args, **kwargs):
        raise RuntimeError("killed between the message and its counts")

    monkeypatch.setattr(conversations, "_write_all", crash)
    with pytest.raises(RuntimeError):
        chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member,
                         json={"clientMessageId": "crash-0001", "text": "Still there?"})
    monkeypatch.undo()
    assert [entry["unread"] for entry in inbox(chat, "widget", visitor)] == [0]
    say(chat, "app", member, conversation, "Still there?", client_id="crash-0001")
    say(chat, "app", member, conversation, "Still there?", client_id="crash-0001")
    assert [entry["unread"] for entry in inbox(chat, "widget", visitor)] == [1]
    assert chat.container.store.for_brand("acme").get("conversations", conversation)["messageCount"] == 1


def test_messages_posted_at_once_by_both_parties_are_all_counted(talk):
    from tests.races import in_parallel

    chat, member, visitor, conversation = talk
    jobs = [("app", member, f"m-{n}") for n in range(6)] + [("widget", visitor, f"v-{n}") for n in range(6)]

    def post():
        audience, headers, text = jobs.pop()
        return say(chat, audience, headers, conversation, text, client_id=f"race-{text}")

    in_parallel(12, post)
    store = chat.container.store.for_brand("acme")
    stored = store.get("conversations", conversation)
    assert stored["messageCount"] == 12 and stored["dialogueAt"] is not None
    ids = {m["id"] for m in store.query_all("messages", pk=f"acme|{conversation}")}
    for entry in store.query_all("inbox"):
        # Each message counted once in each entry; writing reads the conversation, so at most the other's six.
        assert sorted(entry["counted"]) == sorted(ids) and 0 <= entry["unread"] <= 6, entry["owner"]


def test_blocking_stops_messages_both_ways_and_takes_the_conversation_out_of_the_blockers_list(talk):
    chat, member, visitor, conversation = talk
    say(chat, "widget", visitor, conversation, "Hi")
    assert chat.client.put(f"{APP}/conversations/{conversation}/block", headers=member).status_code == 204
    assert inbox(chat, "app", member) == []
    assert [entry["conversationId"] for entry in inbox(chat, "widget", visitor)] == [conversation]
    for base, headers in ((APP, member), (WIDGET, visitor)):
        refused = chat.client.post(f"{base}/conversations/{conversation}/messages", headers=headers,
                                   json={"clientMessageId": "blocked-001", "text": "hello?"})
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    history = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()
    assert [item["text"] for item in history["items"]] == ["Hi"]  # the history stays

    assert chat.client.delete(f"{APP}/conversations/{conversation}/block", headers=member).status_code == 204
    assert [entry["conversationId"] for entry in inbox(chat, "app", member)] == [conversation]
    say(chat, "widget", visitor, conversation, "Back again")
    stranger = chat.visitor()
    assert chat.client.put(f"{WIDGET}/conversations/{conversation}/block", headers=stranger).status_code == 404


def test_a_visitor_blocks_a_member(talk):
    chat, member, visitor, conversation = talk
    assert chat.client.put(f"{WIDGET}/conversations/{conversation}/block", headers=visitor).status_code == 204
    assert inbox(chat, "widget", visitor) == []
    refused = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member,
                               json={"clientMessageId": "pushy-0001", "text": "Still interested?"})
    assert refused.status_code == 403

"""The community chat: members talk one to one (one conversation per pair) and in groups, with unread counts
per member, several conversations at once, and none of it in the conversation metrics."""

from __future__ import annotations

from datetime import timedelta

from tests.conversations.conftest import APP, BRAND, OTHER
from tests.conversations.test_metrics import board, post, tick
from tests.identity.test_profile_api import add_member, app_headers

COMMUNITY = f"{APP}/community/conversations"


def members(chat, *ids, **extra):
    return {member_id: app_headers(chat.container, add_member(chat.container, brand_id=BRAND, member_id=member_id,
                                                               **extra), brand_id=BRAND, ttl=timedelta(hours=2))
            for member_id in ids}


def unread(chat, headers):
    items = chat.client.get(f"{APP}/conversations", headers=headers).json()["items"]
    return {item["conversationId"]: item["unread"] for item in items}


def test_one_conversation_per_pair_of_members_with_unread_counts(chat):
    team = members(chat, "ana", "bob")
    first = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["bob"]})
    assert first.status_code == 201, first.text
    conversation = first.json()["conversationId"]
    again = chat.client.post(COMMUNITY, headers=team["bob"], json={"memberIds": ["ana"]}).json()
    assert again["conversationId"] == conversation  # the pair's conversation, whoever starts it
    post(chat, APP, team["ana"], conversation, "ana-00001", text="Lunch?")
    tick(chat, seconds=1)
    post(chat, APP, team["ana"], conversation, "ana-00002", text="At noon")
    assert unread(chat, team["bob"]) == {conversation: 2} and unread(chat, team["ana"]) == {conversation: 0}
    page = chat.client.get(f"{APP}/conversations/{conversation}/messages", headers=team["bob"]).json()
    assert [item["text"] for item in page["items"]] == ["Lunch?", "At noon"]
    chat.client.post(f"{APP}/conversations/{conversation}/read", headers=team["bob"],
                     json={"upTo": page["items"][-1]["seq"]})
    assert unread(chat, team["bob"]) == {conversation: 0}


def test_a_group_has_a_title_and_every_other_member_has_an_unread(chat):
    team = members(chat, "ana", "bob", "cid")
    body = {"memberIds": ["bob", "cid"], "title": "Lyon store", "clientConversationId": "group-0001"}
    made = chat.client.post(COMMUNITY, headers=team["ana"], json=body)
    assert made.status_code == 201, made.text
    group = made.json()["conversationId"]
    assert chat.client.post(COMMUNITY, headers=team["ana"], json=body).json()["conversationId"] == group  # a retry
    pair = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["bob"]}).json()["conversationId"]
    post(chat, APP, team["bob"], group, "bob-00001", text="Stock arrived")
    tick(chat, seconds=1)
    post(chat, APP, team["ana"], pair, "ana-00001", text="Thanks")
    assert unread(chat, team["cid"]) == {group: 1}
    assert unread(chat, team["ana"]) == {pair: 0, group: 1}      # two conversations open at once
    listed = chat.client.get(f"{APP}/conversations", headers=team["cid"]).json()["items"][0]
    assert (listed["kind"], listed["title"], listed["members"]) == ("community", "Lyon store", 3)
    # A group cannot be blocked; a member not in it sees nothing of it.
    assert chat.client.put(f"{APP}/conversations/{group}/block", headers=team["cid"]).status_code == 409
    outsider = members(chat, "dan")["dan"]
    assert chat.client.get(f"{APP}/conversations/{group}/messages", headers=outsider).status_code == 404
    assert chat.client.post(f"{APP}/conversations/{group}/messages", headers=outsider,
                            json={"clientMessageId": "dan-00001", "text": "hi"}).status_code == 404


def test_only_members_the_community_shows_can_be_invited(chat):
    team = members(chat, "ana")
    members(chat, "hid", visibility={"hide_from_community": True})
    members(chat, "gone", status="blocked")
    for member_id in ("hid", "gone", "nobody"):
        answer = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": [member_id]})
        assert answer.status_code == 404, member_id
    add_member(chat.container, brand_id=OTHER, member_id="far")
    assert chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["far"]}).status_code == 404
    alone = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["ana"]})
    assert alone.status_code == 422 and alone.headers["content-type"] == "application/problem+json"
    untitled = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["a1", "a2"]})
    assert untitled.status_code == 422


def test_members_get_a_push_and_no_metric_counts_community_messages(chat, manager_token):
    team = members(chat, "ana", "bob")
    conversation = chat.client.post(COMMUNITY, headers=team["ana"], json={"memberIds": ["bob"]}).json()[
        "conversationId"]
    post(chat, APP, team["ana"], conversation, "ana-00001")
    totals = board(chat, manager_token("viewer", BRAND))["totals"]
    assert (totals["messages"], totals["newConversations"], totals["activeConversations"]) == (0, 0, 0)
    from shared.ports.bus import QUEUE_NOTIFICATIONS
    queued = chat.container.bus.receive(QUEUE_NOTIFICATIONS, max_messages=100)
    assert [message.body["memberId"] for message in queued] == ["bob"]
    assert queued[0].body["body"] == "A member wrote to you"

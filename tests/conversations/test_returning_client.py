"""A returning visitor finds their conversations: a temporary account that merges into the client the
brand's site says it is hands its conversations over to the client (who resumes them weeks later)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.identity import repository
from tests.conversations.conftest import APP, POLICY, SERVICE_TERMS, WIDGET, Chat
from tests.conversations.test_metrics import picked_up_conversation, post, tick
from tests.identity.test_profile_api import app_headers
from tests.integrations.brand_platform import assertion, create_brand


@pytest.fixture
def shop(client, container, manager_token):
    key = create_brand(client, manager_token, "acme")
    create_brand(client, manager_token, "globex")
    return Chat(client, container), key


def session(chat) -> dict:
    answer = chat.client.post(f"{WIDGET}/visitors", json={**POLICY, **SERVICE_TERMS})
    assert answer.status_code == 201, answer.text
    return answer.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def recognised(chat, key, started: dict) -> dict:
    answer = chat.client.post(f"{WIDGET}/visitors/me/client", headers=bearer(started["accessToken"]),
                              json={"assertion": assertion(key, "C-1001", chat.container.clock.now())})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_client_finds_the_conversations_of_the_temporary_account_it_merged(shop):
    chat, key = shop
    member = chat.member()
    first = session(chat)
    client = recognised(chat, key, first)                 # this account is the client from now on
    earlier = picked_up_conversation(chat, member, bearer(client["accessToken"]))
    chat.container.clock.advance(timedelta(days=20))
    member = app_headers(chat.container, repository.get_member(store=chat.container.store.for_brand("acme"),
                                                               member_id="m1")[0], ttl=timedelta(hours=2))
    second = session(chat)                                # weeks later, on another device: a new account
    later = picked_up_conversation(chat, member, bearer(second["accessToken"]))
    post(chat, WIDGET, bearer(second["accessToken"]), later, "visitor-0001", text="Is it in stock?")
    tick(chat, seconds=30)
    post(chat, APP, member, later, "member-0001", text="Yes")
    merged = recognised(chat, key, second)
    assert merged["visitor"]["id"] == client["visitor"]["id"]
    mine = bearer(merged["accessToken"])
    listed = chat.client.get(f"{WIDGET}/conversations", headers=mine).json()["items"]
    assert {item["conversationId"] for item in listed} == {earlier, later}
    assert {item["conversationId"]: item["unread"] for item in listed}[later] == 1
    page = chat.client.get(f"{WIDGET}/conversations/{later}/messages", headers=mine).json()["items"]
    assert [item["text"] for item in page] == ["Is it in stock?", "Yes"]
    post(chat, WIDGET, mine, later, "visitor-0002", text="I'll come by")  # resumed as the client
    theirs = chat.client.get(f"{APP}/conversations", headers=member).json()["items"]
    assert {item["other"]["id"] for item in theirs} == {client["visitor"]["id"]}
    # The old account's token no longer opens anything.
    assert chat.client.get(f"{WIDGET}/conversations", headers=bearer(second["accessToken"])).status_code == 401

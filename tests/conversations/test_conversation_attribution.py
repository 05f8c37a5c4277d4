"""An order after a client's conversation with a member attributes to that member within the window, with its
reason; outside the window, or for an anonymous visitor, it does not; a click still comes first."""

from __future__ import annotations

from datetime import timedelta

from tests.conversations.conftest import APP, WIDGET, Chat
from tests.conversations.test_metrics import picked_up_conversation, post
from tests.conversations.test_returning_client import bearer, session
from tests.integrations.brand_platform import assertion
from tests.sales.shop import BRAND


def client_in_conversation(shop, customer_id="C-7"):
    chat = Chat(shop.client, shop.container)
    started = session(chat)
    recognised = shop.client.post(f"{WIDGET}/visitors/me/client", headers=bearer(started["accessToken"]),
                                  json={"assertion": assertion(shop.keys[BRAND], customer_id, shop.now())})
    assert recognised.status_code == 200, recognised.text
    visitor = bearer(recognised.json()["accessToken"])
    member = chat.member("m9")
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, WIDGET, visitor, conversation, "visitor-0001", text="Does it come in blue?")
    shop.container.clock.advance(timedelta(minutes=3))
    post(chat, APP, member, conversation, "member-0001", text="Yes")
    return conversation


def attribution_of(response):
    assert response.status_code in (200, 201), response.text
    return response.json()["attribution"]


def test_an_order_after_a_conversation_attributes_to_its_member(shop):
    conversation = client_in_conversation(shop)
    shop.container.clock.advance(timedelta(days=2))
    attributed = attribution_of(shop.order(customerKey="C-7"))
    assert (attributed["memberId"], attributed["reason"]) == ("m9", "conversation")
    assert attributed["explanation"]["conversationId"] == conversation
    assert attributed["explanation"]["daysBeforeOrder"] == 2.0


def test_outside_the_window_or_for_another_customer_nothing_is_attributed(shop):
    client_in_conversation(shop)
    assert attribution_of(shop.order(orderId="o-2", customerKey="C-8"))["reason"] == "none"
    shop.container.clock.advance(timedelta(days=200))
    assert attribution_of(shop.order(orderId="o-3", customerKey="C-7"))["reason"] == "none"


def test_a_click_still_wins_over_a_conversation(shop):
    client_in_conversation(shop)
    shop.link(member="m1")
    shop.visit(member="m1", at=shop.now(), customer_id="C-7")
    attributed = attribution_of(shop.order(customerKey="C-7"))
    assert (attributed["memberId"], attributed["reason"]) == ("m1", "last_click")

"""A visitor away when a member replies gets one email per unread burst, to their email_tmp only, never when
connected or blacklisted, with a link reopening the conversation and no message text."""

from __future__ import annotations

import json

from shared.crm import blacklist
from tests.builders import sent_emails
from tests.conversations.conftest import APP, BRAND, WIDGET
from tests.conversations.test_metrics import picked_up_conversation, post, tick
from tests.conversations.test_realtime_pushes import connect
from tests.events.test_dispatcher import drain

SECRET = "the colour you asked for is back in stock"


def with_email(chat, email="zoe@example.com"):
    visitor = chat.visitor()
    answer = chat.client.patch(f"{WIDGET}/visitors/me", headers=visitor,
                               json={"emailTmp": email, "emailTmpPurpose": "conversation_notification"})
    assert answer.status_code == 200, answer.text
    return visitor


def notices(chat):
    drain(chat.container)
    return sent_emails(chat.container, BRAND, "conversation_reply")


def test_one_email_per_unread_burst_without_the_text(chat):
    member, visitor = chat.member(), with_email(chat)
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001", text=SECRET)
    post(chat, APP, member, conversation, "member-0002", text="and in your size")
    mails = notices(chat)
    assert len(mails) == 1  # two replies, one burst: one email
    mail = mails[0]
    assert mail["toEmail"] == "zoe@example.com"
    text = json.dumps(mail)
    assert SECRET not in text and "in your size" not in text
    assert f"#popsell-conversation={conversation}" in text
    # The visitor reads; the next reply while they are away is a new burst.
    last = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()["items"][-1]
    chat.client.post(f"{WIDGET}/conversations/{conversation}/read", headers=visitor, json={"upTo": last["seq"]})
    tick(chat, minutes=3)
    post(chat, APP, member, conversation, "member-0003")
    assert len(notices(chat)) == 2
    post(chat, APP, member, conversation, "member-0004")
    assert len(notices(chat)) == 2


def test_no_email_to_a_connected_visitor_a_visitor_without_email_or_a_blacklisted_one(chat):
    member = chat.member()
    nobody = chat.visitor()  # no email_tmp given
    quiet = picked_up_conversation(chat, member, nobody)
    post(chat, APP, member, quiet, "member-0001")
    listed = with_email(chat, "bo@example.com")
    blocked = picked_up_conversation(chat, member, listed)
    blacklist.add(store=chat.container.store.for_brand(BRAND),
                  email_hash=chat.container.hasher(BRAND)("email", "bo@example.com"),
                  reason=blacklist.BlacklistReason.HARD_BOUNCE, now=chat.container.clock.now(),
                  journal=chat.container.journal(BRAND))
    post(chat, APP, member, blocked, "member-0002")
    online = with_email(chat, "on@example.com")
    live = picked_up_conversation(chat, member, online)
    socket, _ = connect(chat, f"{WIDGET}/conversations/realtime/negotiate", online)
    with socket:
        post(chat, APP, member, live, "member-0003")
        assert notices(chat) == []
    # A visitor's own messages never email them.
    post(chat, WIDGET, online, live, "visitor-0001")
    assert notices(chat) == []


def test_a_redelivered_event_sends_the_email_once(chat):
    member, visitor = chat.member(), with_email(chat)
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001")
    from shared.ports.bus import QUEUE_DOMAIN_EVENTS
    bus = chat.container.bus
    while delivered := bus.receive(QUEUE_DOMAIN_EVENTS, max_messages=100):
        for message in delivered:
            chat.container.events.deliver(message)
            chat.container.events.deliver(message)
            bus.complete(QUEUE_DOMAIN_EVENTS, message)
    assert len(notices(chat)) == 1

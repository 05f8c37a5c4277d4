"""Read receipts: each page of messages carries how far each party read, and the other party's client is told
over the hub when a party reads."""

from __future__ import annotations

import json

from tests.conversations.conftest import APP, WIDGET
from tests.conversations.test_metrics import picked_up_conversation, post
from tests.conversations.test_realtime_pushes import connect


def test_the_other_party_sees_how_far_a_party_read(chat):
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    sent = post(chat, APP, member, conversation, "member-0001", text="Hello")
    page = chat.client.get(f"{APP}/conversations/{conversation}/messages", headers=member).json()
    assert page["readMarks"] == {"member:m1": sent["seq"]}  # writing reads what it holds
    socket, grant = connect(chat, f"{APP}/realtime/negotiate", member)
    with socket as ws:
        for group in grant["groups"]:
            ws.send_text(json.dumps({"type": "joinGroup", "group": group, "ackId": 1}))
        assert chat.client.post(f"{WIDGET}/conversations/{conversation}/read", headers=visitor,
                                json={"upTo": sent["seq"]}).json() == {"unread": 0}
        while (frame := json.loads(ws.receive_text())).get("type") != "message":
            pass
        visitor_key = next(key for key in chat.client.get(
            f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()["readMarks"]
            if key.startswith("visitor:"))
        assert frame["data"]["type"] == "conversation.read"
        assert frame["data"]["data"] == {"conversationId": conversation, "party": visitor_key, "upTo": sent["seq"]}
    marks = chat.client.get(f"{APP}/conversations/{conversation}/messages", headers=member).json()["readMarks"]
    assert marks[visitor_key] == sent["seq"]

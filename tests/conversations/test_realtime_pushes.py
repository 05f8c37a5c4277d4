"""Conversations tell the connected clients over the realtime hub: the waiting list's members of a new
request and of its pick-up, the visitor of their request's pick-up, both parties of each message."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from shared.ports.realtime import SUBPROTOCOL
from tests.conversations.conftest import APP, WIDGET


def connect(chat, url_of_negotiate, headers):
    grant = chat.client.post(url_of_negotiate, headers=headers)
    assert grant.status_code == 200, grant.text
    parts = urlsplit(grant.json()["url"])
    return chat.client.websocket_connect(f"{parts.path}?{parts.query}", subprotocols=[SUBPROTOCOL]), grant.json()


def pushes(ws, count):
    frames = []
    while len(frames) < count:
        frame = json.loads(ws.receive_text())
        if frame.get("type") == "message":
            frames.append(frame["data"])
    return frames


def test_members_visitors_and_both_parties_of_a_message_are_told(chat):
    member, visitor = chat.member(), chat.visitor()
    member_socket, grant = connect(chat, f"{APP}/realtime/negotiate", member)
    assert grant["groups"] == ["brand:acme:member:m1", "brand:acme:waiting-list:all"]
    visitor_socket, visitor_grant = connect(chat, f"{WIDGET}/conversations/realtime/negotiate", visitor)
    with member_socket as member_ws, visitor_socket as visitor_ws:
        for socket, socket_grant in ((member_ws, grant), (visitor_ws, visitor_grant)):
            for group in socket_grant["groups"]:
                socket.send_text(json.dumps({"type": "joinGroup", "group": group, "ackId": 1}))
        request = chat.request(visitor)
        joined = pushes(member_ws, 1)[0]
        assert (joined["type"], joined["data"]) == ("waiting-list.joined", {"requestId": request["id"]})

        picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=member).json()
        left = pushes(member_ws, 1)[0]
        told = pushes(visitor_ws, 1)[0]
        assert left["type"] == "waiting-list.left" and left["data"]["state"] == "handled"
        assert told["type"] == "conversation.request" and told["data"]["conversationId"] == picked["conversationId"]

        sent = chat.client.post(f"{APP}/conversations/{picked['conversationId']}/messages", headers=member,
                                json={"clientMessageId": "push-0001", "text": "Hello!"}).json()
        for socket in (visitor_ws, member_ws):
            message = pushes(socket, 1)[0]
            assert message["type"] == "conversation.message"
            assert message["data"] == {"conversationId": picked["conversationId"], "messageId": sent["id"],
                                       "seq": sent["seq"]}  # ids and the cursor: never the text


def test_a_client_cannot_listen_to_another_party(chat):
    visitor = chat.visitor()
    _, grant = connect(chat, f"{WIDGET}/conversations/realtime/negotiate", visitor)
    assert len(grant["groups"]) == 1 and grant["groups"][0].startswith("brand:acme:visitor:")
    assert chat.client.post(f"{APP}/realtime/negotiate").status_code == 401


def test_available_members_get_a_push_per_request_and_a_member_one_per_visitor_message(chat):
    from shared.ports.bus import QUEUE_NOTIFICATIONS

    online, away = chat.member("m1"), chat.member("m2", availability="away")
    chat.member("m3", availability="offline")
    visitor = chat.visitor()
    request = chat.request(visitor)
    queued = chat.container.bus.receive(QUEUE_NOTIFICATIONS, max_messages=50)
    assert sorted((m.body["memberId"], m.body["kind"]) for m in queued) == [("m1", "waiting-list"),
                                                                           ("m2", "waiting-list")]
    assert {m.body["title"] for m in queued} == {"New waiting-list request"}
    for message in queued:
        chat.container.bus.complete(QUEUE_NOTIFICATIONS, message)

    picked = chat.client.post(f"{APP}/waiting-list/{request['id']}/pick-up", headers=away).json()
    conversation = picked["conversationId"]
    chat.client.post(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor,
                     json={"clientMessageId": "ask-00001", "text": "Do you have it in red?"})
    chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=away,
                     json={"clientMessageId": "answer-0001", "text": "Yes!"})
    queued = chat.container.bus.receive(QUEUE_NOTIFICATIONS, max_messages=50)
    assert [(m.body["memberId"], m.body["kind"]) for m in queued] == [("m2", "direct-message")]
    assert "red" not in repr(queued[0].body)  # never the message's text
    assert online  # m1 got nothing for a conversation that is not theirs

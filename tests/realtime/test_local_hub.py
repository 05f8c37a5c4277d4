"""The local realtime hub through the real app and starlette's TestClient WebSocket (docs/realtime.md)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from shared.ports.realtime import LOCAL_HUB_PATH, SUBPROTOCOL, conversation_group, envelope, member_group
from shared.realtime import access

A = conversation_group(brand_id="acme", conversation_id="c1")
B = conversation_group(brand_id="acme", conversation_id="c2")
OTHER_BRAND = conversation_group(brand_id="globex", conversation_id="c1")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _connect(client, container, *, groups, user="m1", brand="acme", ttl=timedelta(minutes=5)):
    grant = access.negotiate(realtime=container.realtime, brand_id=brand, user_id=user, groups=groups, ttl=ttl)
    socket = client.websocket_connect(_path(grant["url"]), subprotocols=[SUBPROTOCOL])
    return socket


def _publish(container, group, *, brand="acme", text="hello"):
    return access.publish(realtime=container.realtime, clock=container.clock, group=group, type="conversation.message",
                          brand_id=brand, data={"text": text, "cursor": "1"})


def _next(ws):
    return json.loads(ws.receive_text())


def _marker(container, ws, group):
    """Publish a marker to `group` and return every frame `ws` got before it (the hub keeps order)."""
    _publish(container, group, text="marker")
    seen = []
    while True:
        frame = _next(ws)
        if frame.get("type") == "message" and frame["data"]["data"]["text"] == "marker":
            return seen
        seen.append(frame)


def test_negotiate_answers_the_url_token_and_expiry(container):
    grant = access.negotiate(realtime=container.realtime, brand_id="acme", user_id="m1", groups=[A],
                             ttl=timedelta(minutes=5))
    assert grant["url"].startswith("ws://127.0.0.1:7071" + LOCAL_HUB_PATH + "?access_token=")
    assert grant["token"] and grant["expiresAt"] == "2030-01-01T09:05:00Z"


def test_a_client_receives_its_group_and_not_another(client, container):
    with _connect(client, container, groups=[A]) as ws:
        assert ws.accepted_subprotocol == SUBPROTOCOL
        connected = _next(ws)
        assert connected["type"] == "system" and connected["event"] == "connected" and connected["userId"] == "m1"
        _publish(container, B, text="not for you")
        _publish(container, A, text="hello")
        frame = _next(ws)
        assert frame["type"] == "message" and frame["from"] == "group" and frame["group"] == A
        assert frame["dataType"] == "json"
        message = frame["data"]
        assert set(message) == {"type", "brandId", "data", "id", "sentAt"}
        assert message["type"] == "conversation.message" and message["brandId"] == "acme"
        assert message["data"] == {"text": "hello", "cursor": "1"} and message["sentAt"] == "2030-01-01T09:00:00Z"


def test_join_and_leave_only_the_token_groups(client, container):
    with _connect(client, container, groups=[A]) as ws:
        _next(ws)
        ws.send_text(json.dumps({"type": "joinGroup", "group": B, "ackId": 1}))
        ack = _next(ws)
        assert ack == {"type": "ack", "ackId": 1, "success": False,
                       "error": {"name": "Forbidden", "message": "group not in the token"}}
        assert _marker(container, ws, A) == []
        _publish(container, B, text="still not for you")
        ws.send_text(json.dumps({"type": "leaveGroup", "group": A, "ackId": 2}))
        assert _next(ws) == {"type": "ack", "ackId": 2, "success": True}
        _publish(container, A, text="gone")
        ws.send_text(json.dumps({"type": "joinGroup", "group": A, "ackId": 3}))
        assert _next(ws) == {"type": "ack", "ackId": 3, "success": True}
        assert _marker(container, ws, A) == []  # neither B's message nor A's while it had left


def test_clients_cannot_publish(client, container):
    with _connect(client, container, groups=[A]) as ws:
        _next(ws)
        ws.send_text(json.dumps({"type": "sendToGroup", "group": A, "ackId": 9, "data": "x"}))
        assert _next(ws)["error"]["name"] == "Forbidden"
        ws.send_text("not json")
        assert _next(ws)["error"]["name"] == "InvalidRequest"


def test_an_expired_token_is_refused(client, container):
    grant = access.negotiate(realtime=container.realtime, brand_id="acme", user_id="m1", groups=[A],
                             ttl=timedelta(minutes=5))
    container.clock.advance(timedelta(minutes=5))
    with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
        with client.websocket_connect(_path(grant["url"])):
            pass


@pytest.mark.parametrize("forge", ["payload", "mac", "missing", "garbage", "non-ascii"])
def test_a_forged_token_is_refused(client, container, forge):
    token = container.realtime.client_access(user_id="m1", groups=[A], ttl=timedelta(minutes=5)).token
    payload, _, mac = token.partition(".")
    forged = {
        "payload": container.realtime.client_access(user_id="m1", groups=[A, B]).token.partition(".")[0] + "." + mac,
        "mac": payload + "." + ("0" * len(mac)),
        "missing": "",
        "garbage": "abc",
        "non-ascii": payload + ".é" + mac[1:],
    }[forge]
    with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
        with client.websocket_connect(f"{LOCAL_HUB_PATH}?access_token={forged}"):
            pass


def test_a_token_of_another_hub_key_is_refused(client, container, settings, clock):
    from shared.adapters.local_realtime import LocalRealtimeHub

    other = LocalRealtimeHub(signing_key=b"another key" * 3, clock=clock, base_url="http://x")
    token = other.client_access(user_id="m1", groups=[A]).token
    with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
        with client.websocket_connect(f"{LOCAL_HUB_PATH}?access_token={token}"):
            pass


def test_a_publish_from_a_worker_thread_arrives(client, container):
    with _connect(client, container, groups=[A]) as ws:
        _next(ws)
        results = []
        worker = threading.Thread(target=lambda: results.append(_publish(container, A, text="from a thread")))
        worker.start()
        worker.join()
        assert results == [True]
        assert _next(ws)["data"]["data"]["text"] == "from a thread"


def test_two_brands_cannot_cross(client, container):
    # Negotiating another brand's group is refused, and so is an envelope sent to another brand's group.
    with pytest.raises(ValueError):
        access.negotiate(realtime=container.realtime, brand_id="acme", user_id="m1", groups=[OTHER_BRAND])
    with pytest.raises(ValueError):
        container.realtime.publish(OTHER_BRAND, envelope(type="x", brand_id="acme", data={},
                                                         sent_at=container.clock.now()))
    with _connect(client, container, groups=[A]) as acme, \
            _connect(client, container, groups=[OTHER_BRAND], brand="globex", user="m9") as globex:
        _next(acme)
        _next(globex)
        _publish(container, OTHER_BRAND, brand="globex", text="globex only")
        assert _marker(container, acme, A) == []
        assert _next(globex)["data"]["brandId"] == "globex"


def test_a_member_group_fans_out_to_every_connection_of_the_member(client, container):
    group = member_group(brand_id="acme", member_id="m1")
    with _connect(client, container, groups=[group]) as first, _connect(client, container, groups=[group]) as second:
        _next(first)
        _next(second)
        assert container.realtime.connection_count(group) == 2
        _publish(container, group, text="both")
        assert _next(first)["data"]["data"]["text"] == "both"
        assert _next(second)["data"]["data"]["text"] == "both"


def test_the_hub_forgets_closed_connections(client, container):
    with _connect(client, container, groups=[A]) as ws:
        _next(ws)
        assert container.realtime.connection_count(A) == 1
    _publish(container, A)  # no one there: nothing to do
    # The TestClient closes the socket; the server's handler finishes before the context exits.
    assert container.realtime.connection_count() == 0


def test_the_hub_is_not_mounted_under_the_functions_host(container):
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app

    token = container.realtime.client_access(user_id="m1", groups=[A]).token
    with TestClient(create_app(container.settings, hosted=True)) as hosted:
        with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
            with hosted.websocket_connect(f"{LOCAL_HUB_PATH}?access_token={token}"):
                pass


def test_a_connection_that_does_not_read_is_cut_off_not_buffered_forever():
    import asyncio

    from shared.adapters.local_realtime import HubGrant, _Connection

    async def scenario():
        connection = _Connection(connection_id="c", grant=HubGrant(user_id="m1", groups=frozenset({A})),
                                 loop=asyncio.get_running_loop(), queue=asyncio.Queue(maxsize=2))
        for text in ("1", "2", "3", "4"):
            connection.deliver(text)
        return connection.overflowed, [connection.queue.get_nowait() for _ in range(connection.queue.qsize())]

    overflowed, queued = asyncio.run(scenario())
    assert overflowed and queued == ["2", None]  # the end marker: the sender closes the socket (1013)

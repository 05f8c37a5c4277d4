"""The realtime port in the same uvicorn process: a WebSocket hub (docs/realtime.md "Local hub").

It speaks a minimal subset of Web PubSub's `json.webpubsub.azure.v1` subprotocol, so a client
written for production works here: on connect a `{"type":"system","event":"connected"}` message,
then `joinGroup` / `leaveGroup` requests (with an `ackId`, answered by an `ack`), and the server's
pushes as `{"type":"message","from":"group","group":...,"dataType":"json","data":<envelope>}`.

A connection is opened with a short-lived token this hub signs (HMAC-SHA256 with a key derived
from the master secret, compared in constant time by shared.macs): it names the user and the groups
the connection joins on connect and may join again after leaving; any other group is refused.

Connections live on the event loop; `publish` is called from anywhere (a sync route runs in the
thread pool), so it takes a snapshot of the group under a thread lock and hands each message to its
connection's loop with `call_soon_threadsafe`. A connection whose queue is full (a client not
reading) is closed: it catches up by cursor when it comes back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.clock import Clock
from shared.errors import Unauthorized
from shared.macs import mac_matches
from shared.ports.realtime import (
    DEFAULT_TTL,
    LOCAL_HUB_PATH,
    SUBPROTOCOL,
    ClientAccess,
    Realtime,
    brand_of_group,
    check_access,
    check_publish,
)

log = logging.getLogger("popsell.realtime")
QUEUE_SIZE = 256
# A request the hub reads from a client: anything longer is refused.
MAX_CLIENT_MESSAGE = 4096
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class HubGrant:
    """What a valid token grants: who connects, and the groups they may be in."""

    user_id: str
    groups: frozenset[str]


@dataclass(eq=False)
class _Connection:
    connection_id: str
    grant: HubGrant
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]
    joined: set[str] = field(default_factory=set)
    overflowed: bool = False

    def deliver(self, text: str) -> None:
        """On the connection's loop: queue one outgoing frame, or mark the connection overflowed."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()  # room for the end marker
            self.queue.put_nowait(None)


class LocalRealtimeHub(Realtime):
    """The WebSocket hub of a local run; also what the tests and the bench connect to."""

    def __init__(self, *, signing_key: bytes, clock: Clock, base_url: str, path: str = LOCAL_HUB_PATH) -> None:
        self._key = signing_key
        self._clock = clock
        base = base_url.rstrip("/")
        self._url = ("wss://" + base[len("https://"):] if base.startswith("https://")
                     else "ws://" + base.removeprefix("http://")) + path
        self._lock = threading.Lock()
        self._groups: dict[str, set[_Connection]] = {}
        self._connections: set[_Connection] = set()

    # Tokens -----------------------------------------------------------------------------------

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def client_access(self, *, user_id: str, groups: list[str], ttl: timedelta = DEFAULT_TTL) -> ClientAccess:
        check_access(groups, ttl)
        if not user_id:
            raise ValueError("a client token names its user")
        now = self._clock.now()
        expires = now + ttl
        claims = {"sub": user_id, "groups": sorted(set(groups)), "iat": int(now.timestamp()),
                  "exp": int(expires.timestamp()), "jti": uuid.uuid4().hex}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        token = f"{payload}.{self._mac(payload)}"
        return ClientAccess(url=f"{self._url}?access_token={quote(token)}", token=token, expires_at=expires)

    def verify(self, token: str | None) -> HubGrant:
        """The grant of a valid, unexpired token of this hub; Unauthorized otherwise."""
        payload, _, mac = (token or "").partition(".")
        if not payload or not mac_matches(mac, self._mac(payload) if payload.isascii() else ""):
            raise Unauthorized("Invalid realtime token")
        try:
            claims = json.loads(_unb64(payload))
            user_id, groups, expires = claims["sub"], claims["groups"], claims["exp"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("Invalid realtime token") from exc
        if not isinstance(user_id, str) or not isinstance(groups, list) or not isinstance(expires, int):
            raise Unauthorized("Invalid realtime token")
        if expires <= self._clock.now().timestamp():
            raise Unauthorized("Realtime token expired")
        return HubGrant(user_id=user_id, groups=frozenset(str(group) for group in groups))

    # Publishing ---------------------------------------------------------------------------------

    def publish(self, group: str, message: dict[str, Any]) -> None:
        check_publish(group, message)
        frame = json.dumps({"type": "message", "from": "group", "group": group, "dataType": "json", "data": message},
                           separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            targets = list(self._groups.get(group, ()))
        for connection in targets:
            try:
                connection.loop.call_soon_threadsafe(connection.deliver, frame)
            except RuntimeError:  # the loop is closed: the connection is gone
                self._forget(connection)

    def is_online(self, user_id: str) -> bool:
        with self._lock:
            return any(connection.grant.user_id == user_id for connection in self._connections)

    def connection_count(self, group: str | None = None) -> int:
        with self._lock:
            return len(self._connections if group is None else self._groups.get(group, ()))

    def _join(self, connection: _Connection, group: str) -> None:
        with self._lock:
            if connection in self._connections:
                connection.joined.add(group)
                self._groups.setdefault(group, set()).add(connection)

    def _leave(self, connection: _Connection, group: str) -> None:
        with self._lock:
            connection.joined.discard(group)
            members = self._groups.get(group)
            if members is not None:
                members.discard(connection)
                if not members:
                    del self._groups[group]

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)
        for group in list(connection.joined):
            self._leave(connection, group)

    # The WebSocket side (functions/http_api/routers/platform/realtime.py) ------------------------

    async def serve(self, websocket: WebSocket) -> None:
        """Run one client connection until it closes."""
        token = websocket.query_params.get("access_token")
        try:
            grant = self.verify(token)
        except Unauthorized:
            await websocket.close(code=POLICY_VIOLATION)  # before accept: the handshake is refused (403)
            return
        offered = websocket.scope.get("subprotocols") or []
        connection = _Connection(connection_id=uuid.uuid4().hex, grant=grant, loop=asyncio.get_running_loop(),
                                 queue=asyncio.Queue(maxsize=QUEUE_SIZE))
        # The first frame, queued before any push can be.
        connection.queue.put_nowait(json.dumps({"type": "system", "event": "connected", "userId": grant.user_id,
                                                "connectionId": connection.connection_id}))
        # Joined before the handshake completes: a publish made once the client is connected reaches it.
        with self._lock:
            self._connections.add(connection)
        for group in sorted(grant.groups):
            self._join(connection, group)
        sender: asyncio.Task[None] | None = None
        try:
            await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
            sender = asyncio.create_task(self._send_loop(websocket, connection))
            await self._receive_loop(websocket, connection)
        except (WebSocketDisconnect, RuntimeError):  # the client left, or the hub closed it (not reading)
            pass
        finally:
            self._forget(connection)
            if sender is not None:
                sender.cancel()
                try:
                    await sender
                except (asyncio.CancelledError, Exception):  # noqa: S110 - the socket is going away either way
                    pass

    async def _send_loop(self, websocket: WebSocket, connection: _Connection) -> None:
        while True:
            frame = await connection.queue.get()
            if frame is None:
                log.info("realtime connection closed: not reading")
                await websocket.close(code=TRY_AGAIN_LATER)
                return
            await websocket.send_text(frame)

    async def _receive_loop(self, websocket: WebSocket, connection: _Connection) -> None:
        while True:
            text = await websocket.receive_text()
            reply = self._handle(connection, text)
            if reply is not None:
                connection.deliver(json.dumps(reply))

    def _handle(self, connection: _Connection, text: str) -> dict[str, Any] | None:
        """One client request of the subprotocol; the ack to send back (None: nothing)."""
        try:
            request = json.loads(text) if len(text) <= MAX_CLIENT_MESSAGE else None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return {"type": "ack", "success": False, "error": {"name": "InvalidRequest", "message": "not JSON"}}
        ack_id = request.get("ackId")
        kind = request.get("type")
        group = request.get("group")
        if kind in ("joinGroup", "leaveGroup") and isinstance(group, str):
            if group not in connection.grant.groups:
                result: dict[str, Any] = {"success": False,
                                          "error": {"name": "Forbidden", "message": "group not in the token"}}
            else:
                brand_of_group(group)  # tokens name group_name groups only
                (self._join if kind == "joinGroup" else self._leave)(connection, group)
                result = {"success": True}
        elif kind == "sendToGroup":
            # Messages are written by HTTP POST (the store is the record); clients never publish.
            result = {"success": False, "error": {"name": "Forbidden", "message": "clients do not publish"}}
        else:
            result = {"success": False, "error": {"name": "InvalidRequest", "message": "unknown request"}}
        return {"type": "ack", "ackId": ack_id, **result} if ack_id is not None or not result["success"] else None

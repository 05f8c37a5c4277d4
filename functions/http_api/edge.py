"""The outermost ASGI app: what every request goes through before anything else, in one place.

Per request it resolves the client's address (client_address.py: the socket's peer locally,
X-Forwarded-For under the Functions host) and writes it into the scope, so every rule that reads
`request.client` (login throttles, click abuse, self-clicks, hashed access-log IPs) sees the same
address; it gives the request its id; it serves `/t/{code}` itself, as plain ASGI
(lean_redirect.py), and hands everything else to the FastAPI app, building the addressed audience's
routers first (audiences.py); and it writes one access line without personal data (access_log.py).

It also answers the ASGI lifespan: at shutdown the redirect's buffered visit events are sent.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from functions.http_api import access_log, lean_redirect
from functions.http_api.audiences import LazyRouters
from functions.http_api.client_address import client_address
from popsell.bootstrap import get_container
from shared.ids import unique_hex
from shared.privacy.hashing import EdgeIpHasher
from shared.tracking import redirect

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_REQUEST_ID_HEADER = b"x-request-id"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
            break
    return unique_hex(128)


class Edge:
    """The ASGI app the Functions host and uvicorn serve; `api` is the FastAPI app behind it."""

    def __init__(self, api: FastAPI, routers: LazyRouters, *, trusted_hops: int, ip_hash_key: str) -> None:
        self.api = api
        self.routers = routers
        self.trusted_hops = trusted_hops
        self._ip_hash = EdgeIpHasher(ip_hash_key)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of every route."""
        self.routers.ensure_all()
        return self.api.openapi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.api(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        ip = client_address(scope, trusted_hops=self.trusted_hops)
        scope["client"] = (ip, 0) if ip else None
        request_id = _request_id(scope)
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        status = 500
        code = lean_redirect.matches(scope)
        try:
            if code is not None:
                status = await lean_redirect.serve(scope, send, container=get_container(), code=code, client_ip=ip,
                                                   request_id=request_id)
                return
            self.routers.ensure(scope["path"])

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                await send(message)

            await self.api(scope, receive, send_with_id)
        finally:
            # The IP is hashed here, at the edge: no raw address reaches a log line.
            if access_log.log.isEnabledFor(logging.INFO):
                access_log.log_request(scope, status=status, started=started, ended=time.perf_counter(),
                                       ip_hash=self._ip_hash(ip) if ip else "-", request_id=request_id,
                                       path=access_log.redirect_path(code) if code is not None else None)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                redirect.close()  # the redirect's buffered visit events reach the queue before the process ends
                await send({"type": "lifespan.shutdown.complete"})
                return

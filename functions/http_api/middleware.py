"""ASGI middleware of the FastAPI app: CORS per brand on widget routes.

Pure ASGI (not BaseHTTPMiddleware) so the widget's calls pay as little as possible. Request ids,
the client's address and the access line are the edge's (edge.py), ahead of every route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_WIDGET_PATH = re.compile(r"^/api/v1/widget/([a-z0-9-]{3,40})(/|$)")
WIDGET_ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
WIDGET_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


class WidgetCorsMiddleware:
    """CORS for /api/v1/widget/{brandId}/...: only the brand's allowed origins, refused otherwise.

    `allowed_origins(brand_id)` returns the brand's list (cached by the caller); an unknown brand
    gives an empty list.
    """

    def __init__(self, app: ASGIApp, *, allowed_origins: Callable[[str], list[str]]) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _WIDGET_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        origin = Headers(scope=scope).get("origin") if match else None
        if not match or origin is None:
            await self.app(scope, receive, send)
            return
        allowed = origin.lower() in self.allowed_origins(match.group(1))
        if not allowed:
            await _refuse_origin(scope, send)
            return
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if scope["method"] == "OPTIONS":
            headers = {
                **cors,
                "Access-Control-Allow-Methods": WIDGET_ALLOWED_METHODS,
                "Access-Control-Allow-Headers": WIDGET_ALLOWED_HEADERS,
                "Access-Control-Max-Age": "600",
            }
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in cors.items():
                    headers[key] = value
                headers["Access-Control-Expose-Headers"] = "X-Request-ID"
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _refuse_origin(scope: Scope, send: Send) -> None:
    body = {
        "type": "https://docs.popsell.com/problems/origin-not-allowed",
        "title": "Origin not allowed",
        "status": 403,
        "detail": "This site is not among the brand's widget origins",
        "instance": scope["path"],
        "requestId": scope.get("state", {}).get("request_id"),
    }
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})

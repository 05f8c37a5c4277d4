"""ASGI middleware: request ids, one PII-free access line per request, CORS per brand on widget routes.

Pure ASGI (not BaseHTTPMiddleware) so the hot paths pay as little as possible.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.privacy.hashing import platform_ip_hash

log = logging.getLogger("popsell.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_WIDGET_PATH = re.compile(r"^/api/v1/widget/([a-z0-9-]{3,40})(/|$)")
# Path segments a brand platform fills with its own identifiers of people (customer IDs, contact
# external ids): pseudonymous, still personal data, so the access line never shows them.
_PERSON_SEGMENT = re.compile(r"(/(?:customers|contacts)/)[^/]+")
WIDGET_ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
WIDGET_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def loggable_path(path: str) -> str:
    """The request path as logged: identifiers of people replaced by a placeholder."""
    return _PERSON_SEGMENT.sub(r"\1{id}", path)


class RequestContextMiddleware:
    """Give each request an id (kept from X-Request-ID when sane), echo it, and log the request without PII."""

    def __init__(self, app: ASGIApp, *, ip_hash_key: str) -> None:
        self.app = app
        self.ip_hash_key = ip_hash_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            # The IP is hashed here, at the edge: no raw address reaches a log line.
            ip_hash = platform_ip_hash(self.ip_hash_key, client[0]) if client else "-"
            log.info(
                "%s %s %s %.1fms ip=%s rid=%s",
                scope["method"], loggable_path(scope["path"]), status_holder["status"],
                (time.perf_counter() - started) * 1000, ip_hash, request_id,
            )


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

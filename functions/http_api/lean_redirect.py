"""`/t/{code}` served as plain ASGI, ahead of the API's framework and middleware (see edge.py).

The redirect is the product's hottest path (share links, QR codes): it reads what it needs from
the raw scope, asks the process's `Redirector` (shared.tracking.redirect: cached lookups, bot
detection, hashed IP and user agent, the signed reference, the write-behind visit) and answers a
bodiless 302. It never answers an error page: whatever goes wrong, the visitor lands somewhere.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, quote

from anyio import to_thread
from starlette.types import Scope, Send

from functions.http_api import access_log
from shared.privacy.logging import Id
from shared.tracking import redirect

log = logging.getLogger(__name__)

PATH = re.compile(r"^/t/([^/]+)$")
METHODS = frozenset({"GET", "HEAD"})
# Never cached, never passing the short link on as Referer, never indexed.
HEADERS = ((b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer"), (b"x-robots-tag", b"noindex"))
_WANTED = {b"user-agent": "user_agent", b"referer": "referer", b"origin": "origin"}
# What a Location header may carry as it is (RFC 3986 reserved and unreserved characters, and '%').
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def matches(scope: Scope) -> str | None:
    """The code when the request is a link click (GET or HEAD /t/{code}), else None."""
    if scope["method"] not in METHODS:
        return None
    found = PATH.match(scope["path"])
    return found.group(1) if found else None


def request_facts(scope: Scope) -> dict[str, str | None]:
    facts: dict[str, str | None] = dict.fromkeys(_WANTED.values())
    for name, value in scope["headers"]:
        key = _WANTED.get(name)
        if key is not None and facts[key] is None:  # the first of repeated headers, as Starlette reads them
            facts[key] = value.decode("latin-1")
    query = scope.get("query_string") or b""
    facts["via"] = dict(parse_qsl(query.decode("latin-1"))).get("via") if b"via=" in query else None
    return facts


def _location(url: str) -> bytes:
    try:
        return url.encode("latin-1")
    except UnicodeEncodeError:  # an IRI target: percent-encoded, as a browser would send it
        return quote(url, safe=_URL_SAFE).encode("ascii")


async def decide(container, code: str, *, method: str, client_ip: str | None,  # noqa: ANN001 - the root
                 facts: dict[str, str | None]) -> redirect.Decision:
    """Decide one click and hand its visit to the outbox (store reads, if any, in a worker thread)."""
    redirector = redirect.for_container(container)
    if not redirector.warm(code):
        await to_thread.run_sync(redirector.load, code)
    decision = redirector.decide(code, method=method, client_ip=client_ip, **facts)
    if decision.message is not None:
        if redirector.outbox.immediate:
            await to_thread.run_sync(redirector.enqueue, decision)
        else:
            redirector.enqueue(decision)
    return decision


async def serve(scope: Scope, send: Send, *, container, code: str, client_ip: str | None,  # noqa: ANN001
                request_id: str) -> int:
    """Answer one click with its 302; returns the status sent."""
    try:
        decision = await decide(container, code, method=scope["method"], client_ip=client_ip,
                                facts=request_facts(scope))
        location = decision.location
    except Exception as exc:  # noqa: BLE001 - a click must land somewhere even when our side fails
        log.error("redirect failed path=%s error=%s", Id(access_log.redirect_path(code)), type(exc).__name__)
        location = container.settings.link_fallback_url
    headers = [(b"location", _location(location)), *HEADERS, (b"content-length", b"0"),
               (b"x-request-id", request_id.encode())]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
    return 302

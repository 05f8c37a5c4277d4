"""One access line per request, built from fields that hold no personal data by construction.

The path is logged as routed, with every path parameter that is not one of our own ids (or a
brand's id of a thing, not of a person) replaced by `{id}`: customer ids, contact external ids,
SSO subjects and the tokens of one-click links never reach a log line, whatever they look like.
A path no route matched is masked segment by segment (anything that is not a short plain word).
The fields are then redacted one by one (`shared.privacy.logging`), never as a whole line.
"""

from __future__ import annotations

import logging
import re

from starlette.types import Scope

from shared.privacy.logging import Id

log = logging.getLogger("popsell.access")

# Path parameters shown as they are: ids this product mints, and the brands' ids of things.
SHOWN_PARAMETERS = frozenset({
    "brand_id", "member_id", "contact_id", "link_id", "campaign_id", "entry_id", "request_id", "template_id",
    "user_id", "kid", "order_id", "code", "name", "container", "message_id",
})
MASK = "{id}"
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_LINK_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")


def _masked_unrouted(path: str) -> str:
    return "/".join(part if not part or _PLAIN_SEGMENT.match(part) else MASK for part in path.split("/"))


def loggable_path(scope: Scope) -> str:
    """The request path as logged: the routed template with our ids filled in, every other parameter masked."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return _masked_unrouted(scope.get("path", ""))
    params = scope.get("path_params") or {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).partition(":")[0]
        value = params.get(name)
        if name in SHOWN_PARAMETERS and isinstance(value, str) and _PLAIN_SEGMENT.match(value):
            return value
        return MASK

    return re.sub(r"\{([^}]+)\}", fill, template)


def redirect_path(code: str) -> str:
    """The logged path of a click: share-link codes are public, anything else in their place is masked."""
    return f"/t/{code}" if _LINK_CODE.match(code) else f"/t/{MASK}"


def log_request(scope: Scope, *, status: int, started: float, ended: float, ip_hash: str, request_id: str,
                path: str | None = None) -> None:
    """Write the access line of one request (fields only: method, masked path, status, time, hashed IP, id)."""
    log.info("%s %s %d %.1fms ip=%s rid=%s", scope["method"], Id(path or loggable_path(scope)), status,
             (ended - started) * 1000, Id(ip_hash), Id(request_id))

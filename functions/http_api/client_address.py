"""The client's address, read once per request at the edge (the only place that reads it).

Locally uvicorn hands the socket's peer to the app. Under the Functions host there is no socket
peer (`AsgiFunctionApp` leaves `scope["client"]` empty): Azure's front end appends the address it
accepted the connection from to `X-Forwarded-For`, often with a port ("203.0.113.7:52001",
"[2001:db8::7]:443"). With `trusted_hops` proxies in front of the app, each appending what it saw,
the client is the `trusted_hops`-th entry from the right: entries further left were written by the
client itself and prove nothing. With 0 hops the header is ignored and the socket's peer is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import Scope

_FORWARDED_FOR = b"x-forwarded-for"


@lru_cache(maxsize=4096)  # the same clients come back: parsing an address costs more than the rest of this
def parse_address(entry: str) -> str | None:
    """One X-Forwarded-For entry as a bare IP address ("1.2.3.4:80" -> "1.2.3.4"), or None when it is not one."""
    text = entry.strip()
    if text.startswith("["):  # "[v6]" or "[v6]:port"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "v4:port"; a bare v6 address has several colons
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def forwarded_chain(scope: Scope) -> list[str]:
    """The X-Forwarded-For entries of a request, in order (several headers are one list)."""
    entries: list[str] = []
    for name, value in scope.get("headers") or ():
        if name == _FORWARDED_FOR:
            entries += value.decode("latin-1").split(",")
    return entries


def _peer(scope: Scope) -> str | None:
    peer = scope.get("client")
    # A test client's peer is a name ("testclient"): kept as it is, it is hashed like an address.
    return (parse_address(peer[0]) or peer[0]) if peer else None


def client_address(scope: Scope, *, trusted_hops: int) -> str | None:
    """The client's IP address for this request, or None when nothing trustworthy names it."""
    chain = forwarded_chain(scope) if trusted_hops > 0 else []
    if not chain:
        return _peer(scope)
    # Fewer entries than trusted proxies: a proxy did not append; the leftmost is the best there is.
    return parse_address(chain[-trusted_hops] if len(chain) >= trusted_hops else chain[0])

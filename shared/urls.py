"""Web addresses a person or a brand gives us: one check for every https URL the product stores or sends.

An address is an absolute https URL with a host, no credentials, no spaces or control characters,
at most MAX_URL_LENGTH characters (what browsers and mail clients handle everywhere). Plain http
is accepted for a loopback host only (localhost, 127.0.0.1, ::1), which is what a developer's
machine serves; outside local runs the brand service refuses those too (`is_loopback`).
`javascript:`, `data:` and the like are refused by construction: only the two schemes pass.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _parts(value: str):  # noqa: ANN202 - urllib's SplitResult
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must have at most {MAX_URL_LENGTH} characters")
    # Control and formatting characters (bidirectional overrides among them) hide what a link really says.
    if any(char.isspace() or unicodedata.category(char) in _HIDDEN for char in value):
        raise ValueError("must not contain spaces, control or formatting characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError("is not a valid URL") from exc
    if not parts.hostname:
        raise ValueError("must be an absolute URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    return parts


def web_url(value: str) -> str:
    """The URL if it is https (or http on a loopback host); raises ValueError naming the problem."""
    parts = _parts(value)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        raise ValueError("must be an https URL")
    return value


def https_url(value: str) -> str:
    """The URL if it is https, whatever the host (links sent to people); raises ValueError otherwise."""
    if _parts(value).scheme.lower() != "https":
        raise ValueError("must be an https URL")
    return value


def origin(value: str) -> str:
    """A web origin ("scheme://host[:port]", lowercased) under the rules of `web_url`, without a path."""
    parts = _parts(web_url(value))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{value!r} must be an origin (scheme://host[:port]) without a path")
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_loopback(value: str | None) -> bool:
    """Whether a URL or origin names a loopback host (a developer's machine)."""
    try:
        return bool(value) and urlsplit(value).hostname in LOOPBACK_HOSTS
    except ValueError:
        return False


WebUrl = Annotated[str, Field(max_length=MAX_URL_LENGTH, json_schema_extra={"format": "uri"}),
                   AfterValidator(web_url)]
HttpsUrl = Annotated[str, Field(max_length=MAX_URL_LENGTH, json_schema_extra={"format": "uri"}),
                     AfterValidator(https_url)]

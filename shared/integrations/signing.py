"""The signing rule of brand-platform requests, shared by the API, brand-side helpers and the docs.

A brand platform signs each call with one of its integration keys:

    X-Popsell-Key-Id:    the key's kid
    X-Popsell-Timestamp: unix seconds (UTC) when the request was signed
    X-Popsell-Signature: hex(HMAC-SHA256(secret, "<timestamp>.<METHOD>.<path>.<hex sha256(body)>"))

`path` is the URL path as the server routes it (percent-decoded), followed by "?" and the query
string exactly as sent when there is one. Method and path are inside the signed string so a
signature captured on one route cannot be replayed on another; the body's digest covers the
payload, the timestamp bounds the replay window (±5 minutes) and the API accepts each signature
only once within it (see `shared.integrations.calls`).

The signature must be exactly the 64 lowercase hex characters `sign` produces: nothing is
stripped or case-folded before the comparison, so the value checked is the very value the
replay record holds (a signature with a trailing byte is not "the same signature, padded").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.integrations.errors import BadSignature, SignatureMissing, StaleRequest, UnknownKey
from shared.macs import mac_matches

HEADER_KEY_ID = "X-Popsell-Key-Id"
HEADER_TIMESTAMP = "X-Popsell-Timestamp"
HEADER_SIGNATURE = "X-Popsell-Signature"
REPLAY_WINDOW = timedelta(minutes=5)


def string_to_sign(*, timestamp: int | str, method: str, path: str, body: bytes) -> str:
    """The exact text that is signed: timestamp, method, path and the body's SHA-256, dot-separated."""
    return f"{timestamp}.{method.upper()}.{path}.{hashlib.sha256(body).hexdigest()}"


def sign(*, secret: str, timestamp: int | str, method: str, path: str, body: bytes) -> str:
    """The hex HMAC-SHA256 signature of one request."""
    message = string_to_sign(timestamp=timestamp, method=method, path=path, body=body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(*, kid: str, secret: str, method: str, path: str, body: bytes, now: datetime) -> dict[str, str]:
    """The three headers a brand platform adds to a request signed at `now`."""
    timestamp = int(now.timestamp())
    return {
        HEADER_KEY_ID: kid,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(secret=secret, timestamp=timestamp, method=method, path=path, body=body),
    }


def _unix_seconds(timestamp: str | None) -> bool:
    # isdigit alone also takes other scripts' digits ("١٢٣"): unix seconds are ASCII digits.
    return bool(timestamp) and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12


def verify(
    *,
    keys: Mapping[str, str],
    kid: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    window: timedelta = REPLAY_WINDOW,
) -> int:
    """Check one request against the brand's keys (kid -> secret); returns its timestamp.

    Raises SignatureMissing, UnknownKey, BadSignature or StaleRequest. The signature is checked
    before the time, so only a holder of the secret learns that a request was merely stale.
    """
    if not kid or not signature or not _unix_seconds(timestamp):
        raise SignatureMissing()
    secret = keys.get(kid)
    if secret is None:
        raise UnknownKey()
    expected = sign(secret=secret, timestamp=timestamp, method=method, path=path, body=body)
    if not mac_matches(signature, expected):
        raise BadSignature()
    signed_at = int(timestamp)
    if abs(now.timestamp() - signed_at) > window.total_seconds():
        raise StaleRequest()
    return signed_at

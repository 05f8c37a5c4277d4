"""The VAPID public key the App subscribes a device with (the Push API's `applicationServerKey`).

It is derived from the private key the settings hold (the same one the Web Push adapter signs
with), so the two can never disagree; none when pushes are not configured (the local outbox).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from py_vapid.utils import b64urlencode


@lru_cache(maxsize=4)
def public_key(private_key: str) -> str | None:
    """The uncompressed P-256 point of the key pair, base64url without padding; None without a key."""
    if not private_key:
        return None
    vapid = Vapid.from_string(private_key=private_key)
    return b64urlencode(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

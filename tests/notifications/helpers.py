"""Helpers of the push-notification tests (and the HTTP world's seeded device): device keys, queue runs."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from popsell.registry import queue_handlers
from shared.messaging import worker
from shared.ports.bus import QUEUE_NOTIFICATIONS

BRAND, OTHER = "acme", "globex"
SUBS = f"/api/v1/app/{BRAND}/me/push-subscriptions"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def device_keys() -> dict[str, str]:
    """A real device's keys: an uncompressed P-256 public key and a 16-byte auth secret."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": b64url(point), "auth": b64url(b"0123456789abcdef")}


def subscription(endpoint: str, label: str = "Phone") -> dict:
    return {"endpoint": endpoint, "keys": device_keys(), "label": label}


def vapid_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def drain_notifications(container) -> int:
    """Run the `notifications` queue through its handler until it is empty; how many messages ran."""
    handler = queue_handlers(container)[QUEUE_NOTIFICATIONS]
    count = 0
    for _ in range(50):  # a message failing for ever would otherwise keep the loop going
        received = worker.process_once(container.bus, QUEUE_NOTIFICATIONS, handler)
        if not received:
            break
        count += received
    return count



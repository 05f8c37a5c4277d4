"""Keyed hashing of identifiers (docs/architecture.md "Privacy by design"): HMAC-SHA256 with a secret per brand.

Hashes are comparable (blacklist and whitelist checks, erasure that keeps statistics) but not
reversible by a dictionary attack without the key. Each brand's key is derived from the
platform master key kept in Key Vault, so no brand secret is stored beside the data.
"""

from __future__ import annotations

import hmac
import ipaddress
import unicodedata
from functools import lru_cache
from typing import Literal

from shared.privacy.keys import derive_key

IdentifierKind = Literal["email", "customer_id", "social_id", "sso_subject", "ip", "user_agent", "visitor", "member",
                        "contact", "manager_user"]


def normalise(kind: IdentifierKind, value: str) -> str:
    """The canonical form hashed for each kind, so "A@X.com " and "a@x.com" match."""
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "email":
        return text.lower()
    if kind == "ip":
        return _normal_ip(text)
    return text


@lru_cache(maxsize=8192)
def _normal_ip(text: str) -> str:
    # Cached: the redirect hashes the same few addresses again and again, and parsing one costs ~10 µs.
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text.lower()


def keyed_hash(key: bytes, kind: IdentifierKind, value: str) -> str:
    """HMAC-SHA256 of the normalised identifier, prefixed by its kind, as hex."""
    message = f"{kind}:{normalise(kind, value)}".encode()
    return hmac.digest(key, message, "sha256").hex()


class BrandHasher:
    """Hashes identifiers with one brand's key (one brand's hashes never match another's)."""

    def __init__(self, master_key: str, brand_id: str) -> None:
        self._key = derive_key(master_key, "brand-hash", brand_id=brand_id)

    def __call__(self, kind: IdentifierKind, value: str) -> str:
        return keyed_hash(self._key, kind, value)


class EdgeIpHasher:
    """Hashes client IPs before any brand is known (request logs at the edge); 16 hex chars suffice."""

    def __init__(self, master_key: str) -> None:
        self._key = derive_key(master_key, "edge-ip")

    def __call__(self, ip: str) -> str:
        return keyed_hash(self._key, "ip", ip)[:16]


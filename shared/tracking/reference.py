"""The attribution reference the redirect appends to the target URL (`popsell_ref=`).

"<code>.<click id>.<epoch seconds, base 36>.<signature>": the brand's site keeps it (local
storage, no cookie), sends it back with page views, and its platform posts it with the order.
It is signed with a key derived per brand from the master key, so a shopper cannot forge a
reference to another member's link nor move its date into the attribution window; the order
side needs no lookup to know which link was clicked, and when.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from shared.macs import mac_matches
from shared.privacy.keys import derive_key

QUERY_PARAMETER = "popsell_ref"
_SIGNATURE_LENGTH = 16
_PATTERN = re.compile(r"^([A-Za-z0-9]{4,16})\.([A-Za-z0-9]{8,32})\.([0-9a-z]{1,10})\.([0-9a-f]{16})$")


@dataclass(frozen=True)
class Reference:
    """A verified reference: which link, which click, when."""

    code: str
    click_id: str
    clicked_at: datetime


@lru_cache(maxsize=1024)
def _key(master_key: str, brand_id: str) -> bytes:
    # Cached: every click signs with it, and deriving it is an HMAC of its own.
    return derive_key(master_key, "attribution-ref", brand_id=brand_id)


def _signature(master_key: str, brand_id: str, payload: str) -> str:
    return hmac.digest(_key(master_key, brand_id), payload.encode(), "sha256").hex()[:_SIGNATURE_LENGTH]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def sign(master_key: str, brand_id: str, *, code: str, click_id: str, clicked_at: datetime) -> str:
    """The reference of one click on one link."""
    payload = f"{code}.{click_id}.{_base36(int(clicked_at.timestamp()))}"
    return f"{payload}.{_signature(master_key, brand_id, payload)}"


def verify(master_key: str, brand_id: str, reference: str | None) -> Reference | None:
    """The click a reference names, or None when it is malformed, forged or of another brand."""
    match = _PATTERN.match(reference or "")
    if match is None:
        return None
    code, click_id, stamp, signature = match.groups()
    expected = _signature(master_key, brand_id, f"{code}.{click_id}.{stamp}")
    if not mac_matches(signature, expected):
        return None
    return Reference(code=code, click_id=click_id, clicked_at=datetime.fromtimestamp(int(stamp, 36), UTC))

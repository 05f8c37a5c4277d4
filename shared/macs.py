"""Comparing a MAC someone supplied (a signature, a signed link's tag, a shared secret) with the expected one.

Every check of an HMAC-protected value goes through `mac_matches`, so each one is constant-time
and none can raise on odd input: `hmac.compare_digest` raises TypeError on a str holding
non-ASCII characters, which a header, a path or a query string can carry (a 500 instead of a
refusal). Nothing is normalised here: the value compared is exactly the value supplied, so what a
caller records (a replay nonce) is what was checked.
"""

from __future__ import annotations

import hmac


def _as_bytes(value: str | bytes) -> bytes | None:
    if isinstance(value, bytes):
        return value
    return value.encode("ascii") if value.isascii() else None


def mac_matches(supplied: str | bytes | None, expected: str | bytes) -> bool:
    """True only when `supplied` is exactly `expected`; False for None, non-ASCII text or another length."""
    given = _as_bytes(supplied) if supplied is not None else None
    # The expected value is ours (a hex digest, a configured secret): UTF-8 is its one encoding.
    wanted = expected if isinstance(expected, bytes) else expected.encode("utf-8")
    if given is None or len(given) != len(wanted):
        return False
    return hmac.compare_digest(given, wanted)

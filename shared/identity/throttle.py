"""Brute-force protection: failure counters per key (an account's email hash, a hashed IP).

A key that collects `max_failures` failures within `window` is locked for `lockout`; `guard`
refuses a locked key with RateLimited (429 + Retry-After). Counters are documents in the
`throttles` container that expire by ttl; expiry is also checked against the clock, since the
embedded store keeps expired documents. Keys are chosen by the caller and never hold clear
personal data (use keyed hashes: "login:email:<hash>", "login:ip:<hash>").
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import isoformat, parse_instant
from shared.errors import RateLimited
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, EtagMismatch

CONTAINER = "throttles"
_SAFE_ID = re.compile(r"^[A-Za-z0-9:._|-]{1,200}$")
_ATTEMPTS = 5


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures within which window lock a key, and for how long."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


# Per account: 5 failures in 15 minutes lock the account key for 15 minutes.
ACCOUNT_POLICY = ThrottlePolicy()
# Per IP: looser, because a shop's vendors often share one public address.
IP_POLICY = ThrottlePolicy(max_failures=20)


def _doc_id(key: str) -> str:
    # Cosmos ids refuse '/', '\\', '?', '#': an odd key is hashed rather than refused.
    return key if _SAFE_ID.match(key) else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


def _locked_for(doc: dict | None, now: datetime) -> float:
    """Seconds the key stays locked (0: not locked)."""
    if not doc or not doc.get("lockedUntil"):
        return 0.0
    return max(0.0, (parse_instant(doc["lockedUntil"]) - now).total_seconds())


def guard(store: BrandStore, *, keys: list[str], now: datetime) -> None:
    """Raise RateLimited (retry_after in seconds) when any key is locked; otherwise return."""
    wait = max((_locked_for(store.find(CONTAINER, _doc_id(key)), now) for key in keys), default=0.0)
    if wait > 0:
        raise RateLimited("Too many failed attempts; try again later", retry_after=math.ceil(wait))


def _next_state(doc: dict | None, key_id: str, now: datetime, policy: ThrottlePolicy) -> dict:
    window_start = parse_instant(doc["windowStart"]) if doc else now
    failures = doc.get("failures", 0) if doc else 0
    if now - window_start >= policy.window or _expired_lock(doc, now):
        window_start, failures = now, 0
    failures += 1
    locked_until = doc.get("lockedUntil") if doc else None
    if failures >= policy.max_failures:
        locked_until = isoformat(now + policy.lockout)
    keep = max(policy.window, policy.lockout) + timedelta(minutes=1)
    return {
        "id": key_id,
        "failures": failures,
        "windowStart": isoformat(window_start),
        "lockedUntil": locked_until,
        "ttl": int(keep.total_seconds()),
    }


def _expired_lock(doc: dict | None, now: datetime) -> bool:
    """A lock that has run out starts a fresh count: the next failures must add up again."""
    return bool(doc and doc.get("lockedUntil") and parse_instant(doc["lockedUntil"]) <= now)


def record_failure(
    store: BrandStore, *, keys: list[str], now: datetime, policy: ThrottlePolicy = ACCOUNT_POLICY
) -> None:
    """Count one failure against each key, locking those that reach the policy's limit."""
    for key in keys:
        key_id = _doc_id(key)
        # The etag makes concurrent failures each count: a lost race reloads and counts again.
        for _ in range(_ATTEMPTS):
            doc = store.find(CONTAINER, key_id)
            state = _next_state(doc, key_id, now, policy)
            try:
                if doc is None:
                    store.create(CONTAINER, state)
                else:
                    store.replace(CONTAINER, state, etag=doc["_etag"])
                break
            except (DocumentConflict, EtagMismatch, DocumentNotFound):
                continue


def reset(store: BrandStore, *, keys: list[str]) -> None:
    """Forget the failures of these keys (after a successful login or a password reset)."""
    for key in keys:
        try:
            store.delete(CONTAINER, _doc_id(key))
        except DocumentNotFound:
            pass

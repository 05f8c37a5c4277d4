"""Brute-force protection and rate limits: attempts per key, reserved before the work they guard.

A key (an account's email hash, a hashed IP) allows `max_failures` attempts within `window`;
once that many failed, it is locked for `lockout` and refused with RateLimited (429 +
Retry-After). The count must hold when many callers race (40 password guesses sent at once), so
an attempt is *reserved* before the password is checked, by an atomic increment that hands each
caller its own number (`BrandStore.patch` "incr" returns the new document, in every adapter):

- `reserve` takes one attempt on each key; a key whose number passes its limit, or that is locked,
  refuses at once: nothing is checked, the reservations are given back, RateLimited is raised.
- The caller then reports how it went: `Attempt.failed()` counts a failure on every key (the
  failure that reaches the limit locks the key), `Attempt.succeeded(reset=...)` clears the keys
  named (an account after a good password) and gives the reservation back on the others (an IP,
  which only failures may fill: a shop's vendors share one address).
- `count` is both at once, for plain rate limits where every use counts (a form, an email sent).

So at most `max_failures` attempts of one key are ever checked in a window, however many arrive
together. A fresh window (no document yet, an elapsed window, a lock that ran out) is a create or
an etag replace, retried while other writers win; a key that still cannot be written raises
TransientError (503) rather than letting the attempt through uncounted. An attempt whose caller
crashes before reporting stays counted until the window ends: stricter, never looser.

Counters are documents in the `throttles` container that expire by ttl; dates are also checked
against the clock, since the embedded store keeps expired documents. Keys are chosen by the
caller and never hold clear personal data (keyed hashes: "login:email:<hash>", "login:ip:<hash>").
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import isoformat, parse_instant
from shared.errors import RateLimited, TransientError
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, EtagMismatch, PatchOp
from shared.ports.store_retry import retrying

CONTAINER = "throttles"
_SAFE_ID = re.compile(r"^[A-Za-z0-9:._|-]{1,200}$")
# Write races only happen when a window opens; a key still contended after this many rounds is a
# store in trouble, not a busy key.
_WRITE_ROUNDS = 10


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many attempts within which window a key allows, and how long it stays locked once they failed."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


# Per account: 5 failures in 15 minutes lock the account key for 15 minutes.
ACCOUNT_POLICY = ThrottlePolicy()
# Per IP: looser, because a shop's vendors often share one public address.
IP_POLICY = ThrottlePolicy(max_failures=20)


@dataclass(frozen=True)
class Limit:
    """One key and the policy it is counted under."""

    key: str
    policy: ThrottlePolicy


def login_limits(*, account: str, ip: str | None) -> list[Limit]:
    """What one password login counts on (App and Manager alike): its account, and the client IP when known."""
    limits = [Limit(account, ACCOUNT_POLICY)]
    return limits + ([Limit(ip, IP_POLICY)] if ip else [])


def _doc_id(key: str) -> str:
    # Cosmos ids refuse '/', '\\', '?', '#': an odd key is hashed rather than refused.
    return key if _SAFE_ID.match(key) else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


def _locked_for(doc: dict, now: datetime) -> float:
    """Seconds the key stays locked (0: not locked)."""
    if not doc.get("lockedUntil"):
        return 0.0
    return max(0.0, (parse_instant(doc["lockedUntil"]) - now).total_seconds())


def _elapsed(doc: dict, now: datetime, policy: ThrottlePolicy) -> bool:
    """A lock that ran out, or a window that passed without one, starts a fresh count."""
    if doc.get("lockedUntil"):
        return parse_instant(doc["lockedUntil"]) <= now
    return now - parse_instant(doc["windowStart"]) >= policy.window


def _fresh(key_id: str, now: datetime, policy: ThrottlePolicy, *, failing: bool) -> dict:
    keep = max(policy.window, policy.lockout) + timedelta(minutes=1)
    return {"id": key_id, "attempts": 1, "failures": int(failing), "windowStart": isoformat(now),
            "lockedUntil": None, "ttl": int(keep.total_seconds())}


def _ops(step: int, *, failing: bool) -> list[PatchOp]:
    return [PatchOp("incr", "attempts", step)] + ([PatchOp("incr", "failures", step)] if failing else [])


def _take(store: BrandStore, limit: Limit, now: datetime, *, failing: bool) -> dict:
    """Reserve one attempt on a key (counted as a failure too when `failing`); the counter after this caller's."""
    key_id = _doc_id(limit.key)

    def attempt() -> dict:
        try:
            # The increment first: the common case is one write, and it hands this caller its own number.
            doc = store.patch(CONTAINER, key_id, _ops(1, failing=failing))
        except DocumentNotFound:
            # A DocumentConflict here: another caller opened the window first, count again.
            return store.create(CONTAINER, _fresh(key_id, now, limit.policy, failing=failing))
        if not _elapsed(doc, now, limit.policy):
            return doc
        # It landed in a window that had passed: open a fresh one in its place (one writer wins; an
        # EtagMismatch: another caller opened the fresh window first, count in it).
        return store.replace(CONTAINER, _fresh(key_id, now, limit.policy, failing=failing), etag=doc["_etag"])

    return retrying(attempt, attempts=_WRITE_ROUNDS, on=(EtagMismatch, DocumentConflict),
                    exhausted=TransientError("The attempt could not be counted; try again in a moment"))


def _give_back(store: BrandStore, key: str, *, failing: bool = False) -> None:
    with contextlib.suppress(DocumentNotFound):  # reset meanwhile: nothing left to give back
        store.patch(CONTAINER, _doc_id(key), _ops(-1, failing=failing))


def _lock_when_full(store: BrandStore, limit: Limit, doc: dict, now: datetime) -> None:
    """The failure that reaches the key's limit locks it for the policy's lockout."""
    if doc["failures"] >= limit.policy.max_failures and _locked_for(doc, now) <= 0:
        locked_until = isoformat(now + limit.policy.lockout)
        store.patch(CONTAINER, _doc_id(limit.key), [PatchOp("set", "lockedUntil", locked_until)])


def _refusal(doc: dict, now: datetime, policy: ThrottlePolicy) -> RateLimited:
    wait = _locked_for(doc, now)
    if wait <= 0:
        # Not locked yet: the allowed attempts are being checked right now; they end within the window.
        wait = (parse_instant(doc["windowStart"]) + policy.window - now).total_seconds()
    return RateLimited("Too many failed attempts; try again later", retry_after=max(1, math.ceil(wait)))


@dataclass
class Attempt:
    """Attempts reserved on some keys: report the outcome once with `failed()` or `succeeded()`."""

    store: BrandStore
    limits: tuple[Limit, ...]
    now: datetime

    def failed(self) -> None:
        """Count the attempt as a failure on every key; the failure that reaches a key's limit locks it."""
        for limit in self.limits:
            try:
                doc = self.store.patch(CONTAINER, _doc_id(limit.key), [PatchOp("incr", "failures", 1)])
                _lock_when_full(self.store, limit, doc, self.now)
            except DocumentNotFound:
                continue  # a success reset the key meanwhile: that success stands

    def succeeded(self, *, reset: Sequence[str] = ()) -> None:
        """Clear the keys in `reset`; give the reserved attempt back on the others (only failures fill them)."""
        for limit in self.limits:
            if limit.key in reset:
                with contextlib.suppress(DocumentNotFound):
                    self.store.delete(CONTAINER, _doc_id(limit.key))
            else:
                _give_back(self.store, limit.key)


def _reserve(store: BrandStore, limits: Sequence[Limit], now: datetime, *, failing: bool) -> list[dict]:
    taken: list[Limit] = []
    docs: list[dict] = []
    try:
        for limit in limits:
            doc = _take(store, limit, now, failing=failing)
            taken.append(limit)
            if _locked_for(doc, now) > 0 or doc["attempts"] > limit.policy.max_failures:
                raise _refusal(doc, now, limit.policy)
            docs.append(doc)
    except (RateLimited, TransientError):
        # Refused attempts are not failures: they neither fill a key nor extend its lock.
        for given in taken:
            _give_back(store, given.key, failing=failing)
        raise
    return docs


def reserve(*, store: BrandStore, limits: Sequence[Limit], now: datetime) -> Attempt:
    """Reserve one attempt on each key before doing the work; RateLimited (nothing reserved) past a limit."""
    _reserve(store, limits, now, failing=False)
    return Attempt(store=store, limits=tuple(limits), now=now)


def count(*, store: BrandStore, limits: Sequence[Limit], now: datetime) -> None:
    """Count one use on each key (a rate limit: every use counts, one write each); RateLimited past a limit."""
    for limit, doc in zip(limits, _reserve(store, limits, now, failing=True), strict=True):
        _lock_when_full(store, limit, doc, now)


def reset(*, store: BrandStore, keys: Sequence[str]) -> None:
    """Forget the attempts of these keys (after a password reset)."""
    for key in keys:
        with contextlib.suppress(DocumentNotFound):
            store.delete(CONTAINER, _doc_id(key))

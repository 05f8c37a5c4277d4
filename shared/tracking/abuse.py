"""Abuse rules of clicks: self-clicks and click floods are not counted (kept as rejectedClicks).

Bots never reach the queue (the redirect recognises them). What is left to refuse, on hashed
data only:
- **Self-click**: the click's hashed IP is one the member logged in from within the last
  SELF_CLICK_LOOKBACK (the identity activity log keeps hashed IPs of logins). For in-store and
  QR-code sources the hashed user agent must match that login too, because a shop's customers
  often share the shop's network with its vendor: an IP alone would refuse genuine clicks.
- **Duplicate click**: the same hashed IP on the same link counts once per DEDUPE_WINDOW
  (30 minutes from the first counted click): reloads and double taps are one visit.
- **Flood**: past MAX_CLICKS_PER_IP_HOUR counted clicks from one hashed IP in one brand in a
  clock hour (UTC), further clicks are refused (a script cycling through links).

Attribution follows the verdict for self-clicks and floods only (`refuses_attribution`): the
member's own click and a script's are not sales the member brought, so a reference or a visit
leaning on such a click never attributes (decision 0017). A duplicate is a shopper's reload or
double tap after a click that counted: the person is genuine, so their reference still attributes.

State lives in `throttles` (brand partition, ttl): the duplicate rule is a `create` (one
writer wins, no read-modify-write), the hourly count a patch increment (each click sees its own
number). The window remembers which click opened it, so a batch retried after a failure judges
that click the same way again (the hourly count may count it twice: stricter, never looser).
Windows are measured on the click's own time, so a redelivered or late event is judged
as it happened. Keys hold keyed hashes and ids only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.clock import isoformat, parse_instant
from shared.identity import activity
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, EtagMismatch, Filter, PatchOp
from shared.ports.store_retry import Retry, retrying
from shared.tracking.messages import VisitEvent

CONTAINER = "throttles"
SELF_CLICK_LOOKBACK = timedelta(days=7)
DEDUPE_WINDOW = timedelta(minutes=30)
MAX_CLICKS_PER_IP_HOUR = 30
SHARED_NETWORK_SOURCES = frozenset({"in_store", "qr_code"})

SELF_CLICK = "self_click"
DUPLICATE = "duplicate"
FLOOD = "flood"
_REFUSING_ATTRIBUTION = frozenset({SELF_CLICK, FLOOD})


def _doc_id(key: str) -> str:
    # Ids stay short and Cosmos-safe whatever the link id's length.
    return key if len(key) <= 200 else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


@dataclass
class LoginPrints:
    """Hashed (IP, user agent) pairs of members' recent logins, read once per member per batch."""

    store: BrandStore
    since: datetime
    _cache: dict[str, set[tuple[str | None, str | None]]] = field(default_factory=dict)

    def of(self, member_id: str) -> set[tuple[str | None, str | None]]:
        """The member's recent (ipHash, userAgentHash) pairs."""
        if member_id not in self._cache:
            pk = f"{self.store.brand_id}|{member_id}"
            docs = self.store.query_all(activity.CONTAINER, pk=pk,
                                        filters=[Filter("subject", "=", member_id),
                                                 Filter("at", ">=", isoformat(self.since))],
                                        fields=("ipHash", "userAgentHash"))
            self._cache[member_id] = {(doc.get("ipHash"), doc.get("userAgentHash")) for doc in docs}
        return self._cache[member_id]


def is_self_click(prints: LoginPrints, visit: VisitEvent) -> bool:
    """The member clicking their own link, as far as hashed login data tells."""
    if visit.ip_hash is None:
        return False
    for ip_hash, ua_hash in prints.of(visit.member_id):
        if ip_hash != visit.ip_hash:
            continue
        if visit.source not in SHARED_NETWORK_SOURCES or (ua_hash is not None and ua_hash == visit.ua_hash):
            return True
    return False


def _first_in_window(store: BrandStore, visit: VisitEvent) -> bool:
    """True for the first click of this hashed IP on this link within the window (and opens the window)."""
    doc_id = _doc_id(f"click-once:{visit.link_id}:{visit.ip_hash}")
    fresh = {"id": doc_id, "until": isoformat(visit.at + DEDUPE_WINDOW), "by": visit.event_id,
             "ttl": int((DEDUPE_WINDOW + timedelta(hours=1)).total_seconds())}

    def attempt() -> bool:
        try:
            store.create(CONTAINER, fresh)
            return True
        except DocumentConflict:
            pass
        doc = store.find(CONTAINER, doc_id)
        if doc is None:
            raise Retry  # expired meanwhile: try to open the window again
        if doc.get("by") == visit.event_id:
            return True  # this very click, judged again after a failed batch: its own window
        if visit.at < parse_instant(doc["until"]):
            return False
        # The embedded store keeps expired rows: an elapsed window reopens, one writer wins.
        store.replace(CONTAINER, fresh, etag=doc["_etag"])
        return True

    return retrying(attempt, attempts=3, on=(EtagMismatch, DocumentNotFound), exhausted=lambda: False)


def _within_hourly_cap(store: BrandStore, visit: VisitEvent) -> bool:
    """Count the click against its hashed IP's hour; False past MAX_CLICKS_PER_IP_HOUR."""
    doc_id = _doc_id(f"clicks-hour:{visit.ip_hash}:{visit.at.strftime('%Y%m%d%H')}")
    try:
        store.create(CONTAINER, {"id": doc_id, "count": 1, "ttl": int(timedelta(hours=2).total_seconds())})
        return True
    except DocumentConflict:
        doc = store.patch(CONTAINER, doc_id, [PatchOp("incr", "count", 1)])
        return int(doc["count"]) <= MAX_CLICKS_PER_IP_HOUR


def verdict(*, store: BrandStore, prints: LoginPrints, visit: VisitEvent) -> str | None:
    """Why the click is not counted (SELF_CLICK, DUPLICATE, FLOOD), or None when it counts."""
    if visit.ip_hash is None:
        return None  # no hashed IP (the redirect could not see one): nothing to compare
    if is_self_click(prints, visit):
        return SELF_CLICK
    if not _first_in_window(store, visit):
        return DUPLICATE
    if not _within_hourly_cap(store, visit):
        return FLOOD
    return None


def refuses_attribution(why: str | None) -> bool:
    """Whether a click refused for `why` must not attribute orders either (self-clicks and floods, not duplicates)."""
    return why in _REFUSING_ATTRIBUTION

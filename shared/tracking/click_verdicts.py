"""The tracking queue's idempotency records (`tracking_seen`), and the verdict a click's record carries.

Every event the queue applies is claimed here (a `create`: one delivery wins), partition
"<brand>|<day of the event>", for SEEN_TTL. A click's record also keeps whether it came from
inside Popsell and, when the abuse rules refused it in a way that must not earn (self-click, flood:
`abuse.refuses_attribution`), why; such a record lives as long as the brand's attribution window,
so a page view, a visit record or an order leaning on that click's reference can learn it was
refused for as long as the reference could attribute. A click the queue has not judged (still on
its way, or lost by the redirect's write-behind, decision 0015) has no record and is not refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat
from shared.ports.store import BrandStore, DocumentConflict
from shared.tracking.models import day_of

CONTAINER = "tracking_seen"
SEEN_TTL = timedelta(days=7)


def record_id(kind: str, event_id: str) -> str:
    """The idempotency record id of an event (the same as its message id, "visit:<click id>")."""
    return f"{kind}:{event_id}"


def partition(brand_id: str, at: datetime) -> str:
    """The partition of a day's idempotency records."""
    return f"{brand_id}|{day_of(at)}"


def seen(*, store: BrandStore, kind: str, event_id: str, at: datetime) -> bool:
    """Whether the event was already applied (claimed)."""
    return store.find(CONTAINER, record_id(kind, event_id), pk=partition(store.brand_id, at)) is not None


def claim(*, store: BrandStore, kind: str, event_id: str, at: datetime, now: datetime, ttl: timedelta = SEEN_TTL,
          **facts: Any) -> bool:
    """Record the event as applied, with `facts` for later readers; False when another delivery claimed it first."""
    doc = {"id": record_id(kind, event_id), "pk": partition(store.brand_id, at), "at": isoformat(now),
           "ttl": int(ttl.total_seconds()), **facts}
    try:
        store.create(CONTAINER, doc)
    except DocumentConflict:
        return False
    return True


def of_click(*, store: BrandStore, click_id: str, clicked_at: datetime) -> dict[str, Any]:
    """What the queue recorded of a click: {"internal": bool, "rejected": why} as known; {} when not judged."""
    doc = store.find(CONTAINER, record_id("visit", click_id), pk=partition(store.brand_id, clicked_at))
    if doc is None:
        return {}
    return {"internal": bool(doc.get("internal")), "rejected": doc.get("rejected")}


def rejected(*, store: BrandStore, click_id: str, clicked_at: datetime) -> str | None:
    """Why the click was refused in a way that must not attribute (self_click, flood), or None."""
    return of_click(store=store, click_id=click_id, clicked_at=clicked_at).get("rejected")

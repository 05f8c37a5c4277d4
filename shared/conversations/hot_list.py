"""The hot list: the visitors on the brand's site now, the likeliest buyers first, with why.

Fed by `VisitorBrowsed` (the tracking queue's event of every page and pick of a keyed visitor),
one document per visitor in `hot_visitors`: its id is derived from the keyed visitor key, so it
is neither the key nor any id elsewhere, and it holds counts, paths without query string and
catalog product ids; no IP, no name, no clear id (Data Protection Guide v4: the visitor's
browsing events carry no personal data). A document lives RETENTION after the visitor's last
page (a store ttl; reads check the date too, as the store may keep expired rows a while).

A visit (session) ends after SESSION_GAP without a page, as web analytics count them; the next
page starts a new visit and makes the visitor a returning one. A visitor is on the site while
their last page is under ON_SITE old. The score is a sum of capped points per signal, each
listed with its count in `reasons` so a member sees why (docs/conversations.md, "Hot list").
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.ports.store import BrandStore, Filter
from shared.ports.store_retry import update_document
from shared.tracking.events import VisitorBrowsed

HOT_VISITORS = "hot_visitors"
SESSION_GAP = timedelta(minutes=30)
ON_SITE = timedelta(minutes=5)
RETENTION = timedelta(days=30)
# Event ids a document remembers (a redelivered batch raises the same ones): far more than a visit's
# pages arriving out of order in one redelivery.
SEEN_MEMORY = 100
PRODUCTS_KEPT = 10
# The on-site visitors one list reads at most before scoring: one store page, more than a busy
# brand's visitors at once.
READ_LIMIT = 1000
_ATTEMPTS = 20

# Signal: (points per unit, cap). Products and picks weigh most: they are what the glossary's
# "most likely to buy" rests on; a page is little alone; a return and time spent add intent.
POINTS = {
    "pages": (2, 20),
    "productsViewed": (5, 25),
    "productsPicked": (15, 30),
    "returning": (10, 10),
    "minutesOnSite": (1, 15),
}


def hot_id(visitor_key: str) -> str:
    """The hot list's id of a visitor: derived from their keyed key, equal to no id elsewhere."""
    return hashlib.sha256(f"hot-list\x1f{visitor_key}".encode()).hexdigest()[:40]


def _new(visitor_id: str, at: str) -> dict[str, Any]:
    return {"id": visitor_id, "visits": 0, "session": None, "lastSeenAt": at, "seen": [], "canvass": None}


def _added(items: list[str], item: str | None) -> list[str]:
    if item is None or item in items:
        return items
    return [*items, item][-PRODUCTS_KEPT:]


def _browse(doc: dict[str, Any] | None, event: VisitorBrowsed, visitor_id: str) -> dict[str, Any] | None:
    at = isoformat(event.occurred_at)
    doc = doc or _new(visitor_id, at)
    if event.id in doc["seen"]:
        return None
    session = doc["session"]
    if session is None or event.occurred_at > parse_instant(session["lastSeenAt"]) + SESSION_GAP:
        doc["visits"] += 1
        session = {"startedAt": at, "lastSeenAt": at, "pages": 0, "path": None, "productsViewed": [],
                   "productsPicked": []}
    session = dict(session)
    if event.picked:
        session["productsPicked"] = _added(session["productsPicked"], event.product_id)
    else:
        session["pages"] += 1
        session["productsViewed"] = _added(session["productsViewed"], event.product_id)
    if at >= session["lastSeenAt"]:
        session["lastSeenAt"] = at
        session["path"] = event.path or session["path"]
    session["startedAt"] = min(session["startedAt"], at)
    doc.update(session=session, lastSeenAt=session["lastSeenAt"], customer=event.customer or doc.get("customer", False),
               seen=[*doc["seen"], event.id][-SEEN_MEMORY:], ttl=int(RETENTION.total_seconds()))
    return doc


def record(*, store: BrandStore, event: VisitorBrowsed) -> None:
    """Count one page or pick into the visitor's current visit (a redelivered event changes nothing)."""
    visitor_id = hot_id(event.visitor_key)
    update_document(store, HOT_VISITORS, visitor_id, lambda doc: _browse(doc, event, visitor_id), attempts=_ATTEMPTS)


def on_site(doc: dict[str, Any] | None, now: datetime) -> bool:
    """The visitor's last page is under ON_SITE old."""
    return doc is not None and doc["session"] is not None and parse_instant(doc["lastSeenAt"]) > now - ON_SITE


def score(doc: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The visit's score and its reasons: each signal's count and the points it gave."""
    session = doc["session"]
    minutes = int((parse_instant(session["lastSeenAt"]) - parse_instant(session["startedAt"])).total_seconds() // 60)
    counts = {"pages": session["pages"], "productsViewed": len(session["productsViewed"]),
              "productsPicked": len(session["productsPicked"]), "returning": 1 if doc["visits"] > 1 else 0,
              "minutesOnSite": minutes}
    reasons = []
    for signal, (each, cap) in POINTS.items():
        points = min(counts[signal] * each, cap)
        if points:
            reasons.append({"signal": signal, "count": doc["visits"] if signal == "returning" else counts[signal],
                            "points": points, "maxPoints": cap})
    return sum(reason["points"] for reason in reasons), reasons


def read(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A hot visitor as an available member sees them: the visit, its score and reasons, any canvass."""
    total, reasons = score(doc)
    session = doc["session"]
    canvass = doc.get("canvass")
    return {"id": doc["id"], "score": total, "reasons": reasons, "visits": doc["visits"],
            "customer": doc.get("customer", False), "visitStartedAt": session["startedAt"],
            "lastSeenAt": session["lastSeenAt"], "path": session["path"],
            "productsViewed": session["productsViewed"], "productsPicked": session["productsPicked"],
            "canvass": canvass if canvass and parse_instant(canvass["expiresAt"]) > now else None}


def hottest(*, store: BrandStore, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The visitors on the site now, highest score first (then the latest seen), at most `limit`."""
    docs = store.query(HOT_VISITORS, filters=[Filter("lastSeenAt", ">", isoformat(now - ON_SITE))],
                       order_by="lastSeenAt", descending=True, page_size=READ_LIMIT).items
    visitors = [read(doc, now) for doc in docs if doc["session"] is not None]
    # A stable sort: among equal scores, the query's order (the latest seen first) stays.
    visitors.sort(key=lambda visitor: visitor["score"], reverse=True)
    return visitors[:limit]

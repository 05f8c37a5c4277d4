"""The waiting list: visitors' requests for a conversation, picked up by available members.

A request waits while it is `pending`; `pendingSince` (set only then) is the queue's order, so the
list reads pending requests oldest first from one index. The pick-up is a conditional write: the
request is replaced only if unchanged since it was read (its etag), so when fifty members take it
at once exactly one write succeeds and the others are told it is already taken (as Rocket.Chat's
conditional "take"). The conversation starts after the winning write, under an id derived from the
request, so a pick-up that crashed in between is completed by its retry or by the next read.

A request nobody handles within the brand's `waitingListAbandonMinutes` is abandoned: it leaves the
list and counts as abandoned; it is never a conversation.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.conversations import conversations
from shared.conversations import events as conversation_events
from shared.conversations.models import Party, QueueStatus, WaitingListRequestIn, WaitingRequestRead
from shared.errors import Conflict, Forbidden, NotFound, Unauthorized
from shared.events.model import Publisher
from shared.identity.models import ExternalUser, Member
from shared.identity.tokens import TokenService
from shared.ports.store import BrandStore, DocumentConflict, EtagMismatch, Filter, Page
from shared.ports.store_retry import retrying

REQUESTS = "conversation_requests"
MAX_PAGE = 100
# Handled requests the wait estimate looks back on, and pending ones a position counts at most.
RECENT_HANDLED = 20
MAX_POSITION = 1000
_ATTEMPTS = 5
_NAMESPACE = uuid.UUID("6f0f4f7e-2a43-4d5e-9d5b-1c7b8f3a9e21")


class AlreadyTaken(Conflict):
    code = "already-taken"
    title = "Another member took this request"


def _abandon_after(brand_minutes: int) -> timedelta:
    return timedelta(minutes=brand_minutes)


def _abandoned(doc: dict[str, Any], now: datetime, abandon_after: timedelta) -> bool:
    """Abandoned: marked so by the sweep, or still pending past the brand's time (the sweep is coming)."""
    return doc["state"] == "abandoned" or (
        doc["state"] == "pending" and parse_instant(doc["createdAt"]) + abandon_after <= now)


def _read(doc: dict[str, Any], now: datetime, abandon_after: timedelta) -> dict[str, Any]:
    return {**doc, "abandoned": _abandoned(doc, now, abandon_after)}


def conversation_id_of(request_id: str) -> str:
    """The conversation a request starts (the same for every retry of its pick-up)."""
    return uuid.uuid5(_NAMESPACE, request_id).hex


def join(*, store: BrandStore, events: Publisher, visitor: ExternalUser, data: WaitingListRequestIn, now: datetime,
         abandon_minutes: int) -> QueueStatus:
    """Append the visitor's request to the waiting list; their pending one if they have one already.

    The Data Protection Guide makes the service terms mandatory for conversations: a visitor who has
    not accepted them cannot ask for one (403).
    """
    if visitor.service_terms is None:
        raise Forbidden("Accept the service terms to start a conversation")
    abandon_after = _abandon_after(abandon_minutes)
    waiting = store.query(REQUESTS, filters=[Filter("visitorId", "=", visitor.id), Filter("state", "=", "pending")],
                          page_size=10).items
    current = [doc for doc in waiting if not _abandoned(doc, now, abandon_after)]
    if current:
        return status(store=store, events=events, request_id=current[0]["id"], visitor_id=visitor.id, now=now,
                      abandon_minutes=abandon_minutes)
    doc = store.create(REQUESTS, {
        "id": uuid.uuid4().hex, "kind": "waiting_list", "state": "pending", "visitorId": visitor.id,
        "context": data.context.model_dump(mode="json", by_alias=True), "createdAt": isoformat(now),
        "pendingSince": isoformat(now), "handledAt": None, "handledBy": None, "cancelledAt": None,
        "conversationId": None,
    })
    events.publish(conversation_events.joined(store.brand_id, doc["id"], at=now))
    return status(store=store, events=events, request_id=doc["id"], visitor_id=visitor.id, now=now,
                  abandon_minutes=abandon_minutes)


def _own(store: BrandStore, request_id: str, visitor_id: str) -> dict[str, Any]:
    doc = store.find(REQUESTS, request_id)
    if doc is None or doc["visitorId"] != visitor_id:
        raise NotFound("Request not found")
    return doc


def _wait_estimate(store: BrandStore, position: int) -> int | None:
    """Seconds: the median handling time of the last handled requests, once per request ahead and this one."""
    recent = store.query(REQUESTS, order_by="handledAt", descending=True, page_size=RECENT_HANDLED,
                         fields=("createdAt", "handledAt")).items
    times = [(parse_instant(doc["handledAt"]) - parse_instant(doc["createdAt"])).total_seconds() for doc in recent]
    return round(statistics.median(times) * position) if times else None


def status(*, store: BrandStore, events: Publisher, request_id: str, visitor_id: str, now: datetime,
           abandon_minutes: int) -> QueueStatus:
    """The visitor's request: its state, and while it waits its place in the queue and a wait estimate."""
    abandon_after = _abandon_after(abandon_minutes)
    doc = _own(store, request_id, visitor_id)
    if doc["state"] == "handled":
        conversation_of_handled(store=store, events=events, request=doc)
    found = QueueStatus.model_validate(_read(doc, now, abandon_after))
    if doc["state"] != "pending" or found.abandoned:
        return found
    since = isoformat(now - abandon_after)
    ahead = store.query(REQUESTS, filters=[Filter("pendingSince", ">", since),
                                           Filter("pendingSince", "<=", doc["pendingSince"])],
                        order_by="pendingSince", page_size=MAX_POSITION, fields=("pendingSince",)).items
    position = sum(1 for item in ahead if (item["pendingSince"], item["id"]) <= (doc["pendingSince"], doc["id"]))
    return found.model_copy(update={"position": position, "estimated_wait_seconds": _wait_estimate(store, position)})


def cancel(*, store: BrandStore, events: Publisher, request_id: str, visitor_id: str, now: datetime) -> None:
    """The visitor gives up waiting (a request already handled is a conversation now: 409)."""

    def attempt() -> dict[str, Any]:
        doc = _own(store, request_id, visitor_id)
        if doc["state"] in ("cancelled", "abandoned"):
            return doc
        if doc["state"] == "handled":
            raise Conflict("This request was handled: it is a conversation now")
        return store.replace(REQUESTS, {**doc, "state": "cancelled", "cancelledAt": isoformat(now),
                                        "pendingSince": None}, etag=doc["_etag"])

    cancelled = retrying(attempt, attempts=_ATTEMPTS)
    events.publish(conversation_events.left(store.brand_id, cancelled, at=now))


def waiting(*, store: BrandStore, now: datetime, abandon_minutes: int, page_size: int = 20,
            continuation: str | None = None) -> tuple[list[WaitingRequestRead], str | None]:
    """The pending requests, oldest first (abandoned ones left out)."""
    since = isoformat(now - _abandon_after(abandon_minutes))
    page: Page = store.query(REQUESTS, filters=[Filter("pendingSince", ">", since)], order_by="pendingSince",
                             page_size=page_size, continuation=continuation)
    return [WaitingRequestRead.model_validate(doc) for doc in page.items], page.continuation


# Requests one sweep marks abandoned per brand at most; the next minute's sweep takes the rest.
SWEEP_PAGE = 500


def sweep_abandoned(*, store: BrandStore, events: Publisher, now: datetime, abandon_minutes: int) -> int:
    """Mark the requests nobody handled in time `abandoned` (at the instant they were); how many.

    The instant of abandonment is the request's plus the brand's time, whenever the sweep runs, so
    the metrics count it on its day to the second. A member's pick-up that wins the race first stands
    (the mark is a conditional write): a request is handled or abandoned, never both.
    """
    abandon_after = _abandon_after(abandon_minutes)
    overdue = store.query(REQUESTS, filters=[Filter("pendingSince", "<=", isoformat(now - abandon_after))],
                          order_by="pendingSince", page_size=SWEEP_PAGE).items
    marked = 0
    for doc in overdue:
        at = isoformat(parse_instant(doc["createdAt"]) + abandon_after)
        try:
            written = store.replace(REQUESTS, {**doc, "state": "abandoned", "abandonedAt": at, "pendingSince": None},
                                    etag=doc["_etag"])
        except EtagMismatch:
            continue  # picked up or cancelled meanwhile
        events.publish(conversation_events.abandoned(store.brand_id, written),
                       conversation_events.left(store.brand_id, written, at=parse_instant(at)))
        marked += 1
    return marked


def overdue(*, store: BrandStore, now: datetime, abandon_minutes: int) -> list[dict[str, Any]]:
    """Requests past the brand's time that the sweep has not marked yet (the metrics count them too)."""
    abandon_after = _abandon_after(abandon_minutes)
    return store.query(REQUESTS, filters=[Filter("pendingSince", "<=", isoformat(now - abandon_after))],
                       order_by="pendingSince", page_size=SWEEP_PAGE, fields=("createdAt",)).items


def available(member: Member, now: datetime) -> bool:
    """Online or away, and not past the time they said they would be (the directory's rule)."""
    until = member.availability_until
    return member.availability in ("online", "away") and (until is None or until > now)


def pick_up(*, store: BrandStore, events: Publisher, member: Member, request_id: str, now: datetime,
            abandon_minutes: int) -> dict[str, Any]:
    """Take a pending request: exactly one member wins; the conversation it starts."""
    abandon_after = _abandon_after(abandon_minutes)
    doc = store.find(REQUESTS, request_id)
    if doc is None:
        raise NotFound("Request not found")
    if doc["state"] == "handled" and doc["handledBy"] == member.id:
        return conversation_of_handled(store=store, events=events, request=doc)  # the winner's retry
    if not available(member, now):
        raise Forbidden("Only available members pick up waiting-list requests")
    if _abandoned(doc, now, abandon_after):
        raise Conflict("Nobody took this request in time: it was abandoned")
    if doc["state"] != "pending":
        raise AlreadyTaken("Another member took this request" if doc["state"] == "handled"
                           else "The visitor cancelled this request")
    handled = {**doc, "state": "handled", "handledAt": isoformat(now), "handledBy": member.id, "pendingSince": None,
               "conversationId": conversation_id_of(request_id)}
    try:
        written = store.replace(REQUESTS, handled, etag=doc["_etag"])
    except EtagMismatch:
        # Someone changed it first: a winner, or the visitor cancelling. Either way, not ours.
        raise AlreadyTaken("Another member took this request") from None
    conversation = conversation_of_handled(store=store, events=events, request=written)
    events.publish(conversation_events.left(store.brand_id, written, at=now))
    return conversation


def conversation_of_handled(*, store: BrandStore, events: Publisher, request: dict[str, Any]) -> dict[str, Any]:
    """The conversation of a handled request, started if a crash left it unstarted."""
    return conversations.start(
        store=store, events=events, conversation_id=request["conversationId"], kind=request["kind"],
        member=Party(kind="member", id=request["handledBy"]), visitor=Party(kind="visitor", id=request["visitorId"]),
        started_at=parse_instant(request["handledAt"]), requested_at=parse_instant(request["createdAt"]),
        request_id=request["id"])


def direct(*, store: BrandStore, events: Publisher, visitor: ExternalUser, member_id: str, data: WaitingListRequestIn,
           now: datetime) -> dict[str, Any]:
    """A direct request: the visitor chose a member; their conversation starts now (or resumes).

    One conversation per visitor and member: asking the same member again resumes it (conversations
    are endless). The member must be one the directory lists (active, not hidden): 404 otherwise.
    The request is recorded handled at once (the glossary: the conversation starts at the request).
    """
    if visitor.service_terms is None:
        raise Forbidden("Accept the service terms to start a conversation")
    member = store.find("members", member_id)
    if member is None or not (member.get("directory") or {}).get("listed"):
        raise NotFound("Member not found")
    conversation_id = uuid.uuid5(_NAMESPACE, f"direct\x1f{visitor.id}\x1f{member_id}").hex
    existing = store.find(conversations.CONVERSATIONS, conversation_id)
    if existing is not None:
        return existing
    request = {"id": conversation_id, "kind": "direct", "state": "handled", "visitorId": visitor.id,
               "context": data.context.model_dump(mode="json", by_alias=True), "createdAt": isoformat(now),
               "pendingSince": None, "handledAt": isoformat(now), "handledBy": member_id, "cancelledAt": None,
               "conversationId": conversation_id}
    try:
        store.create(REQUESTS, request)
    except DocumentConflict:
        request = store.get(REQUESTS, conversation_id)  # a retry: start what the first call recorded
    return conversation_of_handled(store=store, events=events, request=request)


# How long the code of a member's in-store QR stays valid: long enough to scan it face to face.
IN_STORE_CODE_TTL = timedelta(minutes=10)


def in_store_code(*, tokens: TokenService, brand_id: str, member: Member, now: datetime) -> tuple[str, datetime]:
    """The code a member shows as a QR in the store, and when it stops working."""
    return (tokens.issue(subject=member.id, audience="in_store", brand_id=brand_id, now=now, ttl=IN_STORE_CODE_TTL),
            now + IN_STORE_CODE_TTL)


def in_store(*, store: BrandStore, events: Publisher, tokens: TokenService, visitor: ExternalUser, code: str,
             now: datetime) -> dict[str, Any]:
    """A visitor met a member in a store and scanned their code: their conversation (kind in_store).

    It is not a request (the glossary: it starts face to face). One per visitor and member, resumed
    when they meet again. A code expired, forged or of another brand: 404, as an unknown member.
    """
    if visitor.service_terms is None:
        raise Forbidden("Accept the service terms to start a conversation")
    try:
        principal = tokens.verify(code, audience="in_store", now=now)
    except Unauthorized:
        raise NotFound("This code is not valid any more: ask for a new one") from None
    member = store.find("members", principal.subject) if principal.brand_id == store.brand_id else None
    if member is None or member.get("status") != "active":
        raise NotFound("Member not found")
    conversation_id = uuid.uuid5(_NAMESPACE, f"in_store\x1f{visitor.id}\x1f{member['id']}").hex
    return conversations.start(store=store, events=events, conversation_id=conversation_id, kind="in_store",
                               member=Party(kind="member", id=member["id"]),
                               visitor=Party(kind="visitor", id=visitor.id), started_at=now)

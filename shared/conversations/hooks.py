"""The conversation hook: a member canvasses a visitor of the hot list, the widget shows the bubble,
the visitor's click is a hook request, handled at once by that member.

The canvass lives on the visitor's hot-list document, written under the etag read: when several
members canvass the same visitor at once, one write wins and the others are told the visitor is
already canvassed (409), as the waiting list's pick-up. A canvass is open CANVASS_OPEN; a visitor
who closes the bubble is not canvassed again during that visit.

The click (after the service terms, as every conversation) records a request of kind `hook`,
handled by the canvassing member at the instant of the click, and starts or resumes the
conversation of that visitor and member. Each step writes under a fixed id, and the canvass is
marked accepted last, so a click that crashed half-way is completed by its retry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.clock import isoformat, parse_instant
from shared.conversations import hot_list, requests
from shared.conversations.models import RequestContext
from shared.conversations.requests import REQUESTS, available
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.model import Publisher
from shared.identity.models import ExternalUser, Member
from shared.ports.store import BrandStore, DocumentConflict
from shared.ports.store_retry import update_document

CANVASS_OPEN = timedelta(minutes=10)
_ATTEMPTS = 20
_NAMESPACE = uuid.UUID("0b7f4c1e-52a1-4f0e-9a57-3c0d6f8e2b14")


class AlreadyCanvassed(Conflict):
    code = "already-canvassed"
    title = "Another member is canvassing this visitor"


class HookClosed(Conflict):
    code = "hook-closed"
    title = "This invitation is no longer open"


def _open(canvass: dict[str, Any] | None, now: datetime) -> bool:
    return canvass is not None and canvass["state"] == "open" and parse_instant(canvass["expiresAt"]) > now


def canvass(*, store: BrandStore, member: Member, hot_visitor_id: str, message: str | None,
            now: datetime) -> dict[str, Any]:
    """The member invites a visitor on the site to chat; the open canvass (theirs again on a retry)."""
    if not available(member, now):
        raise Forbidden("Only available members canvass visitors")

    def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if not hot_list.on_site(doc, now):
            raise NotFound("This visitor is not on the site any more")
        current = doc.get("canvass")
        if _open(current, now):
            if current["memberId"] == member.id:
                return None  # their own retry
            raise AlreadyCanvassed("Another member is canvassing this visitor")
        if current and current["state"] == "declined" and current["visitStartedAt"] == doc["session"]["startedAt"]:
            raise HookClosed("The visitor closed the invitation during this visit")
        return {**doc, "canvass": {
            "id": uuid.uuid4().hex, "memberId": member.id, "message": message, "state": "open",
            "at": isoformat(now), "expiresAt": isoformat(now + CANVASS_OPEN),
            "visitStartedAt": doc["session"]["startedAt"], "requestId": None}}

    if store.find(hot_list.HOT_VISITORS, hot_visitor_id) is None:
        raise NotFound("This visitor is not on the site any more")
    written = update_document(store, hot_list.HOT_VISITORS, hot_visitor_id, change, attempts=_ATTEMPTS)
    doc = written[1] if written else store.get(hot_list.HOT_VISITORS, hot_visitor_id)
    return doc["canvass"]


def pending_hook(*, store: BrandStore, visitor_key: str, now: datetime) -> dict[str, Any] | None:
    """The open canvass of the widget's visitor (by the key of their site events), or None."""
    doc = store.find(hot_list.HOT_VISITORS, hot_list.hot_id(visitor_key))
    canvass_ = doc.get("canvass") if doc else None
    return canvass_ if _open(canvass_, now) else None


def decline(*, store: BrandStore, visitor_key: str, hook_id: str, now: datetime) -> None:
    """The visitor closed the bubble: the canvass ends (no new one this visit). Unknown: 404; expired: 409."""
    hot_visitor_id = hot_list.hot_id(visitor_key)

    def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        current = (doc or {}).get("canvass")
        if current is None or current["id"] != hook_id:
            raise NotFound("Invitation not found")
        if current["state"] == "declined":
            return None
        if not _open(current, now):
            raise HookClosed("This invitation is no longer open")
        return {**doc, "canvass": {**current, "state": "declined", "declinedAt": isoformat(now)}}

    if store.find(hot_list.HOT_VISITORS, hot_visitor_id) is None:
        raise NotFound("Invitation not found")
    update_document(store, hot_list.HOT_VISITORS, hot_visitor_id, change, attempts=_ATTEMPTS)


def conversation_id_of(visitor_id: str, member_id: str) -> str:
    """The hook conversation of a visitor and a member: one per pair, resumed by every later hook."""
    return uuid.uuid5(_NAMESPACE, f"hook\x1f{visitor_id}\x1f{member_id}").hex


def accept(*, store: BrandStore, events: Publisher, visitor: ExternalUser, visitor_key: str | None, hook_id: str,
           context: RequestContext, now: datetime) -> dict[str, Any]:
    """The visitor clicked the bubble: a hook request, handled at once by the canvassing member."""
    if visitor.service_terms is None:
        raise Forbidden("Accept the service terms to start a conversation")
    doc = store.find(hot_list.HOT_VISITORS, hot_list.hot_id(visitor_key)) if visitor_key else None
    current = (doc or {}).get("canvass")
    if current is None or current["id"] != hook_id:
        raise NotFound("Invitation not found")
    request_id = uuid.uuid5(_NAMESPACE, f"request\x1f{hook_id}").hex
    if current["state"] == "accepted":
        request = store.get(REQUESTS, current["requestId"])
        if request["visitorId"] != visitor.id:
            raise NotFound("Invitation not found")
        return requests.conversation_of_handled(store=store, events=events, request=request)
    if not _open(current, now):
        raise HookClosed("This invitation is no longer open")
    member = store.find("members", current["memberId"])
    if member is None or member.get("status") != "active":
        raise HookClosed("This member cannot chat any more")
    request = {"id": request_id, "kind": "hook", "state": "handled", "visitorId": visitor.id,
               "context": context.model_dump(mode="json", by_alias=True), "createdAt": isoformat(now),
               "pendingSince": None, "handledAt": isoformat(now), "handledBy": member["id"], "cancelledAt": None,
               "conversationId": conversation_id_of(visitor.id, member["id"]), "hookId": hook_id}
    try:
        request = store.create(REQUESTS, request)
    except DocumentConflict:
        request = store.get(REQUESTS, request_id)  # a retry: complete what the first click recorded
        if request["visitorId"] != visitor.id:
            raise NotFound("Invitation not found") from None
    conversation = requests.conversation_of_handled(store=store, events=events, request=request)

    def accepted(found: dict[str, Any] | None) -> dict[str, Any] | None:
        mark = (found or {}).get("canvass")
        if mark is None or mark["id"] != hook_id or mark["state"] == "accepted":
            return None
        return {**found, "canvass": {**mark, "state": "accepted", "acceptedAt": isoformat(now),
                                     "requestId": request_id}}

    update_document(store, hot_list.HOT_VISITORS, doc["id"], accepted, attempts=_ATTEMPTS)
    return conversation


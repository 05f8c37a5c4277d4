"""Push notifications to members: always through the `notifications` queue (DESIGN.md section 8).

Other features call `notify_member` / `notify_members`: one queue message per (member, notification),
its id derived from the brand, the member and the caller's `key` (e.g. "waiting-list:<request id>"), so a
repeated request or a redelivered event enqueues it once (the bus's duplicate detection).

The queue handler loads the member's devices, sends to each unless the member opted out of the kind,
deletes devices the push service answers 404/410, and records each (message id, device) it sent in
`push_deliveries` (expiring after DELIVERY_RECORD_TTL): a redelivery of the message, after a crash
between two devices included, sends to the devices not yet recorded only. A push that succeeded but whose
record could not be written is sent again on redelivery (at least once; the `Topic` collapses it).

Payloads carry a title, a body, a URL in the App and a tag: never message text nor anything personal
of a visitor (the device's lock screen shows them). Logs carry ids only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.clock import isoformat
from shared.errors import PermanentError
from shared.identity import repository
from shared.notifications import subscriptions
from shared.ports.bus import QUEUE_NOTIFICATIONS, MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.notifier import Notifier, PushMessage, PushOutcome, Urgency
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, DocumentStore

logger = logging.getLogger(__name__)

PUSH_DELIVERIES = "push_deliveries"
# Longer than the bus keeps redelivering a message (max delivery count x lock duration, and the
# duplicate-detection window): past it, a record is no longer needed.
DELIVERY_RECORD_TTL = timedelta(days=7)

NotificationKind = Literal["waiting-list", "direct-message"]
# The kind -> the member's opt-in (Member.notifications) that lets it through.
KINDS: dict[str, str] = {"waiting-list": "waiting_list", "direct-message": "direct_messages"}
_URGENCIES = ("very-low", "low", "normal", "high")


@dataclass(frozen=True)
class Notification:
    """What to show: no message text, no visitor's personal data (e.g. "New waiting-list request")."""

    kind: NotificationKind
    key: str  # the caller's idempotency key: the same key for the same member enqueues once
    title: str
    body: str
    url: str  # a path in the App, e.g. "/conversations/requests/r1"
    tag: str  # the collapse key: a newer push of one tag replaces the older on the device
    urgency: Urgency = "normal"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        if not self.url.startswith("/") or self.url.startswith("//"):
            raise ValueError("a notification's url is a path in the App")
        if self.urgency not in _URGENCIES:
            raise ValueError(f"unknown urgency {self.urgency!r}")
        if not (0 < len(self.title) <= 80 and len(self.body) <= 200 and 0 < len(self.key) <= 200
                and 0 < len(self.tag) <= 64):
            raise ValueError("title 1-80, body up to 200, key 1-200 and tag 1-64 characters")


def message_id(brand_id: str, member_id: str, key: str) -> str:
    """The queue message's id: deterministic, so one (member, notification) is one message."""
    digest = hashlib.sha256(f"{brand_id}\x1f{member_id}\x1f{key}".encode()).hexdigest()
    return f"push-{digest[:48]}"


def _outgoing(brand_id: str, member_id: str, notification: Notification) -> OutgoingMessage:
    body = {"brandId": brand_id, "memberId": member_id, "kind": notification.kind, "title": notification.title,
            "body": notification.body, "url": notification.url, "tag": notification.tag,
            "urgency": notification.urgency}
    return OutgoingMessage(body=body, message_id=message_id(brand_id, member_id, notification.key),
                           subject=f"push:{notification.kind}")


def notify_member(*, bus: MessageBus, brand_id: str, member_id: str, notification: Notification) -> str:
    """Enqueue one push to one member's devices; returns the message id."""
    outgoing = _outgoing(brand_id, member_id, notification)
    bus.send(QUEUE_NOTIFICATIONS, [outgoing])
    return outgoing.message_id


def notify_members(
    *, bus: MessageBus, brand_id: str, member_ids: list[str] | tuple[str, ...], notification: Notification
) -> list[str]:
    """Enqueue one push per member (duplicates in `member_ids` once); returns the message ids."""
    messages = [_outgoing(brand_id, member_id, notification) for member_id in dict.fromkeys(member_ids)]
    for start in range(0, len(messages), 100):
        bus.send(QUEUE_NOTIFICATIONS, messages[start:start + 100])
    return [message.message_id for message in messages]


def _push_message(message: ReceivedMessage) -> PushMessage:
    body = message.body
    try:
        push = PushMessage(message_id=message.message_id, brand_id=str(body["brandId"]),
                           member_id=str(body["memberId"]), kind=str(body["kind"]), title=str(body["title"]),
                           body=str(body["body"]), url=str(body["url"]), tag=str(body["tag"]),
                           urgency=body.get("urgency", "normal"))
    except KeyError as exc:
        raise PermanentError(f"notification message without {exc.args[0]}") from None
    if push.kind not in KINDS or push.urgency not in _URGENCIES:
        raise PermanentError("notification message of an unknown kind or urgency")
    return push


def _record_id(message_id_: str, subscription_id: str) -> str:
    return hashlib.sha256(f"{message_id_}\x1f{subscription_id}".encode()).hexdigest()[:48]


def _opted_in(store: BrandStore, member_id: str, kind: str) -> bool:
    try:
        member, _ = repository.get_member(store=store, member_id=member_id)
    except DocumentNotFound:
        return False  # erased or gone: nothing to send
    if member.status != "active":
        return False
    return bool(getattr(member.notifications, KINDS[kind]))


def handle_notification_message(
    message: ReceivedMessage, *, store: DocumentStore, notifier: Notifier, now: datetime
) -> dict[str, int]:
    """Send one `notifications` message to the member's devices; what happened, counted."""
    push = _push_message(message)
    brand_store = store.for_brand(push.brand_id)
    counts = {"sent": 0, "skipped": 0, "gone": 0, "failed": 0}
    if not _opted_in(brand_store, push.member_id, push.kind):
        logger.info("push %s not sent: member %s opted out or inactive", push.message_id, push.member_id)
        return counts
    for target in subscriptions.targets(store=brand_store, member_id=push.member_id):
        record_id = _record_id(push.message_id, target.subscription_id)
        if brand_store.find(PUSH_DELIVERIES, record_id) is not None:
            counts["skipped"] += 1
            continue
        try:
            outcome = notifier.send(target, push)  # TransientError: raised, the message comes back
        except PermanentError:
            outcome = None  # this device refuses this push for good: the others still get theirs
        if outcome is PushOutcome.GONE:
            subscriptions.remove(store=brand_store, subscription_id_=target.subscription_id)
            counts["gone"] += 1
            continue
        record = {"id": record_id, "messageId": push.message_id, "subscriptionId": target.subscription_id,
                  "outcome": "sent" if outcome is PushOutcome.DELIVERED else "refused", "at": isoformat(now),
                  "ttl": int(DELIVERY_RECORD_TTL.total_seconds())}
        try:
            brand_store.create(PUSH_DELIVERIES, record)
        except DocumentConflict:
            pass  # a concurrent delivery of the same message recorded it first
        counts["sent" if outcome is PushOutcome.DELIVERED else "failed"] += 1
    logger.info("push %s to member %s: %s", push.message_id, push.member_id, counts)
    return counts

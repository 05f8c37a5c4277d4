"""The email pipeline: `enqueue_email` (any service) → `emails` queue → `handle_email_message`.

Exactly once in the outbox, even when a message is delivered twice (see
docs/decisions/0003-messaging-and-emails.md):
1. The handler claims the send by creating the email record whose id is the message id
   (`BrandStore.create`, the idempotency primitive): status "sending", a short claim.
2. A delivery that meets an existing record: "sent" → "duplicate", nothing sent; "failed" →
   PermanentError, nothing sent; "sending" with a live claim → TransientError (another
   delivery is sending right now); "sending" with an expired claim (a delivery crashed
   mid-send) → take the claim over (etag) and send again with the SAME message id, which
   the mailer deduplicates (the outbox keeps one file per message id).
3. A recipient who restricted processing (GDPR article 18, shared.gdpr.restriction) gets nothing
   but the emails their own action asks for: the record becomes "suppressed", nothing is sent.
4. Accepted → "sent". Retryable refusal → claim released, TransientError. Refusal → "failed".
The record holds no personal data: no address, no name, no content.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from shared.clock import Clock, isoformat, parse_instant
from shared.config import Settings, get_settings
from shared.emails.models import EMAILS_CONTAINER, EmailRequested, InlineImageRequested
from shared.emails.render import UnknownTemplate, render_email, resolve_locale
from shared.errors import InvalidInput, PermanentError, TransientError
from shared.gdpr import restriction
from shared.ports.bus import QUEUE_EMAILS, MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.mailer import InlineImage, Mailer
from shared.ports.store import BrandStore, DocumentConflict, DocumentStore, EtagMismatch, PatchOp
from shared.privacy.hashing import BrandHasher

log = logging.getLogger(__name__)

# Shorter than the bus lock (60 s locally, 1 min on the Service Bus queue): a redelivery after
# a crash comes only once the lock expired, so it always finds the claim expired too.
SEND_CLAIM = timedelta(seconds=30)
# The email log outlives any redelivery or duplicate window by far, then expires (Cosmos TTL).
EMAIL_RECORD_TTL = timedelta(days=90)
MAX_MESSAGE_ID = 128  # the Service Bus limit on message ids

_UNSAFE_ID = re.compile(r"[/\\?#\s]")


def email_record_id(message_id: str) -> str:
    """The email record's id: the message id, hashed when Cosmos DB would refuse it as an id."""
    if _UNSAFE_ID.search(message_id) or len(message_id) > 200:
        return "sha256-" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()
    return message_id


def _fields(exc: ValidationError) -> str:
    """The failing fields of a validation error, never the input values."""
    return ", ".join(".".join(str(part) for part in error["loc"]) or "body" for error in exc.errors())


def prepare_email(
    *,
    brand_id: str,
    template: str,
    to_email: str,
    to_name: str | None = None,
    locale: str = "en",
    data: dict[str, Any],
    message_id: str | None = None,
    send_at: datetime | None = None,
    settings: Settings | None = None,
    headers: dict[str, str] | None = None,
    event_payload: str | None = None,
    contact_id: str | None = None,
    inline_images: tuple[InlineImageRequested, ...] = (),
) -> OutgoingMessage:
    """The `emails` message of one email, checked and rendered once: InvalidInput (422) when it cannot be sent.

    A caller that writes something the email belongs with (a new member and its verification
    link) prepares the email first, so a refusal leaves nothing written, and sends it last.
    Pass a deterministic `message_id` (e.g. f"verify:{member_id}:{token_id}") so that a retry
    of the caller enqueues, and sends, the email once.
    """
    message_id = message_id or f"email:{uuid.uuid4().hex}"
    if contact_id is not None and "rights_url" not in data:
        # Contacts have no App: the link to their rights page is in every email they get (shared.crm.contact_footer).
        raise InvalidInput("an email to a contact carries the link to their rights page", field="data")
    if len(message_id) > MAX_MESSAGE_ID:
        raise InvalidInput(f"message_id is longer than {MAX_MESSAGE_ID} characters", field="message_id")
    resolved = resolve_locale(template, locale)  # UnknownTemplate (422) for a template we do not ship
    try:
        request = EmailRequested(
            brand_id=brand_id, template=template, locale=resolved, to_email=to_email, to_name=to_name, data=data,
            headers=headers or {}, event_payload=event_payload, contact_id=contact_id, inline_images=inline_images,
        )
        body = request.to_body()
    except ValidationError as exc:
        raise InvalidInput(f"invalid email request: {_fields(exc)}") from exc
    except PydanticSerializationError as exc:
        raise InvalidInput("email data must be JSON values", field="data") from exc
    # Render once now so a missing variable fails the caller, not a queue message later.
    render_email(
        message_id=message_id,
        brand_id=brand_id,
        template=template,
        locale=resolved,
        to_email=request.to_email,
        to_name=to_name,
        data=body["data"],
        settings=settings or get_settings(),
    )
    return OutgoingMessage(body=body, message_id=message_id, scheduled_for=send_at, subject=f"email:{template}")


def send_prepared(*, bus: MessageBus, message: OutgoingMessage) -> str:
    """Put a prepared email on the `emails` queue; returns its message id."""
    bus.send(QUEUE_EMAILS, [message])
    log.info("enqueued email %s (template %s) for brand %s", message.message_id, message.body["template"],
             message.body["brandId"])
    return message.message_id


def enqueue_email(*, bus: MessageBus, **email: Any) -> str:
    """Check the email renders, put it on the `emails` queue and return its message id (see `prepare_email`)."""
    return send_prepared(bus=bus, message=prepare_email(**email))


def handle_email_message(
    message: ReceivedMessage, *, store: DocumentStore, mailer: Mailer, settings: Settings, clock: Clock
) -> str:
    """Send the email of one `emails` message, once; returns "sent" | "duplicate" | "suppressed" (restricted)."""
    try:
        request = EmailRequested.model_validate(message.body)
    except ValidationError as exc:
        raise PermanentError(f"malformed email message: {_fields(exc)}") from exc
    try:
        locale = resolve_locale(request.template, request.locale)
    except UnknownTemplate as exc:
        raise PermanentError(exc.detail) from exc

    brand = store.for_brand(request.brand_id)
    record_id = email_record_id(message.message_id)
    now = clock.now()
    if _claim(brand, record_id, request, locale, now) == "duplicate":
        log.info("email %s already sent; duplicate delivery %d ignored", message.message_id, message.delivery_count)
        return "duplicate"
    # Checked here, when the email leaves, so that no path that enqueues one can forget it.
    if restriction.suppresses(store=brand, hasher=BrandHasher(settings.hash_master_key, request.brand_id),
                              template=request.template, to_email=request.to_email):
        _mark(brand, record_id, "suppressed", now)
        log.info("email %s (template %s) not sent: its recipient restricted processing", message.message_id,
                 request.template)
        return "suppressed"

    try:
        email = render_email(
            message_id=message.message_id,
            brand_id=request.brand_id,
            template=request.template,
            locale=locale,
            to_email=request.to_email,
            to_name=request.to_name,
            data=request.data,
            settings=settings,
        )
    except InvalidInput as exc:
        _mark_failed(brand, record_id, now, "template-data")
        raise PermanentError(exc.detail) from exc
    if request.headers or request.event_payload or request.inline_images:
        email = dataclasses.replace(email, headers={**email.headers, **request.headers},
                                    event_payload=request.event_payload,
                                    inline_images=tuple(InlineImage(**image.model_dump())
                                                        for image in request.inline_images))

    try:
        [result] = mailer.send([email])
    except Exception:
        _release_claim(brand, record_id, now)
        raise
    if result.accepted:
        brand.patch(
            EMAILS_CONTAINER,
            record_id,
            [
                PatchOp("set", "status", "sent"),
                PatchOp("set", "sentAt", isoformat(clock.now())),
                PatchOp("set", "providerId", result.provider_id),
                PatchOp("set", "claimedUntil", None),
            ],
        )
        log.info("sent email %s (template %s) for brand %s", message.message_id, request.template, request.brand_id)
        return "sent"
    if result.retryable:
        _release_claim(brand, record_id, now)
        raise TransientError(f"the mailer could not take email {message.message_id} now")
    _mark_failed(brand, record_id, now, "rejected")
    # The provider's error text may quote the address: it goes neither to the record nor to logs.
    raise PermanentError(f"the mailer rejected email {message.message_id}")


def _claim(brand: BrandStore, record_id: str, request: EmailRequested, locale: str, now: datetime) -> str:
    """Take the right to send this email ("claimed") or learn it was sent ("duplicate")."""
    record = {
        "id": record_id,
        "status": "sending",
        "template": request.template,
        "locale": locale,
        "createdAt": isoformat(now),
        "attempts": 1,
        "claimedUntil": isoformat(now + SEND_CLAIM),
        "ttl": int(EMAIL_RECORD_TTL.total_seconds()),
    }
    if request.contact_id:
        # Lets provider events without a payload find the contact (shared.crm.provider_events).
        record["contactId"] = request.contact_id
    try:
        brand.create(EMAILS_CONTAINER, record)
        return "claimed"
    except DocumentConflict:
        existing = brand.get(EMAILS_CONTAINER, record_id)
    status = existing.get("status")
    if status == "sent":
        return "duplicate"
    if status == "failed":
        raise PermanentError(f"email {record_id} already failed permanently")
    claimed_until = existing.get("claimedUntil")
    if claimed_until and parse_instant(claimed_until) > now:
        raise TransientError(f"email {record_id} is being sent by another delivery")
    try:
        # The etag makes the take-over single: of two deliveries racing here, one sends. A suppressed
        # email enqueued again (a retention warning after the restriction was lifted) is checked anew.
        brand.patch(
            EMAILS_CONTAINER,
            record_id,
            [PatchOp("set", "claimedUntil", isoformat(now + SEND_CLAIM)), PatchOp("incr", "attempts", 1),
             PatchOp("set", "status", "sending")],
            etag=existing.get("_etag"),
        )
    except EtagMismatch as exc:
        raise TransientError(f"email {record_id} was claimed by another delivery") from exc
    return "claimed"


def _release_claim(brand: BrandStore, record_id: str, now: datetime) -> None:
    """Let the next delivery send at once instead of waiting for the claim to expire."""
    try:
        brand.patch(EMAILS_CONTAINER, record_id, [PatchOp("set", "claimedUntil", isoformat(now))])
    except Exception as exc:
        # The claim then simply expires; the original failure is the one worth raising.
        log.warning("could not release the claim on email %s: %s", record_id, type(exc).__name__)


def _mark(brand: BrandStore, record_id: str, status: str, now: datetime) -> None:
    """End a send without sending: the record says how it ended, nothing else."""
    brand.patch(EMAILS_CONTAINER, record_id, [PatchOp("set", "status", status),
                                               PatchOp("set", f"{status}At", isoformat(now)),
                                               PatchOp("set", "claimedUntil", None)])


def _mark_failed(brand: BrandStore, record_id: str, now: datetime, failure: str) -> None:
    brand.patch(
        EMAILS_CONTAINER,
        record_id,
        [
            PatchOp("set", "status", "failed"),
            PatchOp("set", "failure", failure),
            PatchOp("set", "failedAt", isoformat(now)),
            PatchOp("set", "claimedUntil", None),
        ],
    )

"""Messaging-provider events (Mailjet event API) → contact email status, interactions, black list.

Flow: webhook (validates, drops personal fields, enqueues) → queue "provider-events" →
`handle_provider_event`. See docs/provider-events.md for the mapping and the design choices.
The contact is found through the brand and contact ids the sender put in the event payload
(Mailjet `EventPayload` at send time, echoed as `Payload`), or through the `contactId` of our
email record (id = Mailjet `CustomID` = our message id) when the payload carries only the brand.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import json_input
from shared.brands import service as brands
from shared.brands.models import Brand
from shared.clock import Clock
from shared.crm import blacklist, campaign_stats, contact_journal, email_status
from shared.crm import service as contacts
from shared.crm.consent import ConsentEvent, InvalidTransition, transition
from shared.crm.events import consent_changed
from shared.crm.models import Contact, EmailStatus
from shared.emails.models import EMAILS_CONTAINER
from shared.emails.service import email_record_id
from shared.errors import InvalidInput, NotFound, PermanentError
from shared.events.model import Publisher
from shared.gdpr.journal import Journal
from shared.json_input import MalformedJson
from shared.ports.bus import QUEUE_PROVIDER_EVENTS, MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.platform import Platform
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, DocumentStore

# Idempotency markers of applied events live with the integration nonces (ttl MARKER_TTL).
NONCES = "nonces"
# Mailjet retries a refused call for 24 h and Service Bus redelivers within minutes: a month covers both.
MARKER_TTL = timedelta(days=30)
MAX_BATCH = 1000
MAX_UNIX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z

log = logging.getLogger(__name__)

EventType = Literal["sent", "open", "click", "bounce", "spam", "blocked", "unsub"]
KNOWN_EVENTS = frozenset({"sent", "open", "click", "bounce", "spam", "blocked", "unsub"})


class MailjetEvent(BaseModel):
    """One event as Mailjet posts it; only the fields we use (email, ip, agent, url are read and dropped)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event: str = Field(min_length=1, max_length=20)
    # Bounded: a time past year 9999 or an id of thousands of digits is bad input, not a crash later.
    time: int = Field(ge=0, le=MAX_UNIX_TIME)
    message_id: Annotated[int, Field(ge=0, lt=2**63)] | Annotated[str, Field(min_length=1, max_length=100)] = Field(
        alias="MessageID")
    email: str | None = Field(None, max_length=320)
    custom_id: str | None = Field(None, alias="CustomID", max_length=200)
    payload: str | None = Field(None, alias="Payload", max_length=2000)
    hard_bounce: bool = False
    blocked: bool = False
    error_related_to: str | None = Field(None, max_length=50)
    error: str | None = Field(None, max_length=100)


class ProviderEvent(BaseModel):
    """The queue body: no address, only ids, the keyed email hash and the provider's verdict."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    provider: Literal["mailjet"] = "mailjet"
    event: EventType
    at: datetime
    provider_message_id: str = Field(alias="providerMessageId")
    custom_id: str | None = Field(None, alias="customId")
    brand_id: str | None = Field(None, alias="brandId")
    contact_id: str | None = Field(None, alias="contactId")
    campaign_id: str | None = Field(None, alias="campaignId")
    email_hash: str | None = Field(None, alias="emailHash")
    hard_bounce: bool = Field(False, alias="hardBounce")
    blocked: bool = False
    error_related_to: str | None = Field(None, alias="errorRelatedTo")
    error: str | None = None

    @property
    def message_id(self) -> str:
        """The bus message id: one per provider event, so a repeated callback is enqueued once."""
        return f"mj:{self.event}:{self.provider_message_id}:{int(self.at.timestamp())}"


def _payload_ids(payload: str | None) -> tuple[str | None, str | None]:
    """Brand and contact ids from the sender's event payload; anything else (or not JSON) gives none."""
    if not payload:
        return None, None
    try:
        data = json_input.parse(payload)
    except MalformedJson:
        return None, None
    if not isinstance(data, dict):
        return None, None
    brand_id, contact_id = data.get("brandId"), data.get("contactId")
    return (brand_id if isinstance(brand_id, str) and brand_id else None,
            contact_id if isinstance(contact_id, str) and contact_id else None)


def _payload_campaign(payload: str | None) -> str | None:
    """The campaign id of the sender's event payload, if any."""
    try:
        data = json_input.parse(payload) if payload else None
    except MalformedJson:
        return None
    value = data.get("campaignId") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _campaign_id(event: ProviderEvent) -> str | None:
    """The payload's campaign id, else the one in our campaign message id (CustomID "campaign:<id>:<contact>")."""
    if event.campaign_id:
        return event.campaign_id
    parts = (event.custom_id or "").split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "campaign" and parts[1] else None


def parse_mailjet(raw: Any, hasher_for: Callable[[str], Callable[[str, str], str]]) -> list[ProviderEvent]:
    """Validate a Mailjet callback body (an event or a grouped array) into queue events; 422 names the field.

    Unknown event types are skipped (Mailjet may add some): refusing them would make Mailjet
    retry the whole batch for 24 h.
    """
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        raise InvalidInput("The body must be an event or an array of events",
                           errors=[{"field": "body", "message": "expected a JSON array of events"}])
    if len(items) > MAX_BATCH:
        raise InvalidInput("Too many events", errors=[{"field": "body", "message": f"at most {MAX_BATCH} events"}])
    events: list[ProviderEvent] = []
    errors: list[dict[str, str]] = []
    for index, item in enumerate(items):
        try:
            parsed = MailjetEvent.model_validate(item)
        except ValidationError as exc:
            # Field names only: a pydantic message would quote the input (an address).
            errors += [{"field": ".".join([f"[{index}]", *(str(p) for p in err["loc"])]), "message": err["type"]}
                       for err in exc.errors()]
            continue
        if parsed.event not in KNOWN_EVENTS:
            continue
        brand_id, contact_id = _payload_ids(parsed.payload)
        campaign_id = _payload_campaign(parsed.payload)
        email_hash = hasher_for(brand_id)("email", parsed.email) if brand_id and parsed.email else None
        events.append(ProviderEvent(
            event=parsed.event, at=datetime.fromtimestamp(parsed.time, UTC),  # type: ignore[arg-type]
            provider_message_id=str(parsed.message_id), custom_id=parsed.custom_id, brand_id=brand_id,
            contact_id=contact_id, campaign_id=campaign_id, email_hash=email_hash, hard_bounce=parsed.hard_bounce,
            blocked=parsed.blocked,
            error_related_to=parsed.error_related_to, error=parsed.error,
        ))
    if errors:
        raise InvalidInput("Invalid events", errors=errors[:50])
    return events


def enqueue(*, bus: MessageBus, events: list[ProviderEvent]) -> int:
    """Put the events on "provider-events" (the message id makes a repeated callback a no-op); returns the count."""
    if events:
        bus.send(QUEUE_PROVIDER_EVENTS, [
            OutgoingMessage(body=e.model_dump(mode="json", by_alias=True), message_id=e.message_id,
                            subject=f"provider-event:{e.event}")
            for e in events
        ])
    return len(events)


# --- queue side ------------------------------------------------------------------------------------


def _marker_id(message_id: str) -> str:
    return "evt:" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def _contact_id(store: BrandStore, event: ProviderEvent) -> str | None:
    """The payload's contact id, else the `contactId` our email record carries (campaign sends write it)."""
    if event.contact_id:
        return event.contact_id
    if not event.custom_id:
        return None
    record = store.find(EMAILS_CONTAINER, email_record_id(event.custom_id))
    return (record or {}).get("contactId")


def _reported_status(event: ProviderEvent) -> EmailStatus | None:
    if event.event == "bounce":
        if event.blocked and not event.hard_bounce:
            return EmailStatus.BLOCKED
        return EmailStatus.HARD_BOUNCE if event.hard_bounce else EmailStatus.SOFT_BOUNCE
    return {"spam": EmailStatus.SPAM, "blocked": EmailStatus.BLOCKED}.get(event.event)


def apply(contact: Contact, event: ProviderEvent) -> Contact:
    """The contact after one provider event: status, interaction counters, consent (pure)."""
    at = event.at
    counters = contact.interactions
    update: dict[str, Any] = {}
    if event.event == "sent":
        update["interactions"] = counters.model_copy(update={
            "publications_sent": counters.publications_sent + 1, "last_sent_at": _later(counters.last_sent_at, at)})
    elif event.event == "open":
        # "Opening an email is not considered as an activity": counted, lastActivityAt untouched.
        update["interactions"] = counters.model_copy(update={
            "views": counters.views + 1, "last_view_at": _later(counters.last_view_at, at)})
    elif event.event == "click":
        update["interactions"] = counters.model_copy(update={
            "clicks": counters.clicks + 1, "last_click_at": _later(counters.last_click_at, at)})
        update["last_activity_at"] = _later(contact.last_activity_at, at)
    elif event.event == "unsub":
        try:
            return contact.with_consent(transition(contact.consent, ConsentEvent.OPT_OUT_FROM_EMAIL, at))
        except InvalidTransition:
            return contact  # a global opt-out stays as it is
    reported = _reported_status(event)
    if reported is not None:
        update["email_status"] = email_status.after_provider(contact.email_status, reported)
    return contact.model_copy(update=update)


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def process(event: ProviderEvent, message_id: str, *, store: DocumentStore, journal_for: Callable[[str], Journal],
            events: Publisher, clock: Clock) -> str:
    """Apply one event once; returns "applied" | "duplicate" | "unresolved" (no brand or contact found)."""
    if not event.brand_id:
        log.info("provider event %s carries no brand: ignored", message_id)
        return "unresolved"
    try:
        brand = brands.get(store=store, brand_id=event.brand_id)
    except NotFound:
        log.info("provider event %s names an unknown brand: ignored", message_id)
        return "unresolved"
    brand_store = store.for_brand(event.brand_id)
    now = clock.now()
    marker = {"id": _marker_id(message_id), "kind": "provider-event", "at": now.isoformat(),
              "ttl": int(MARKER_TTL.total_seconds())}
    try:
        brand_store.create(NONCES, marker)
    except DocumentConflict:
        log.info("provider event %s already processed", message_id)
        return "duplicate"
    try:
        outcome = _apply_to_brand(brand_store, journal_for(brand.id), events, brand, event, now)
    except Exception:
        # Not applied: free the marker so the redelivery applies it.
        brand_store.delete(NONCES, marker["id"])
        raise
    log.info("provider event %s (%s) for brand %s: %s", message_id, event.event, event.brand_id, outcome)
    return outcome


def _apply_to_brand(store: BrandStore, journal: Journal, events: Publisher, brand: Brand, event: ProviderEvent,
                    now: datetime) -> str:
    contact_id = _contact_id(store, event)
    contact, etag = None, None
    if contact_id:
        try:
            contact, etag = contacts.from_document(store.get(contacts.CONTACTS, contact_id))
        except DocumentNotFound:
            contact = None
    campaign_id = _campaign_id(event)
    if campaign_id and contact_id:
        # Dashboards: process() runs once per event; record_event counts each recipient once per counter.
        campaign_stats.record_event(store=store, event=event.event, campaign_id=campaign_id, contact_id=contact_id)
    reported = _reported_status(event)
    reason = email_status.EMAIL_STATUS_TABLE[reported].blacklist_reason if reported else None
    email_hash = (contact.email_hash if contact else None) or event.email_hash
    if reason is not None and email_hash:
        blacklist.add(store=store, email_hash=email_hash, reason=reason, now=now, journal=journal)
    if contact is None:
        return "unresolved" if reason is None or not email_hash else "applied"
    if contact.status != "active":
        return "applied"
    updated = apply(contact, event)
    if updated != contact:
        contact_journal.record_opt_outs(journal=journal, before=contact, after=updated, now=now)
        store.replace(contacts.CONTACTS, contacts.to_document(updated, brand), etag=etag)
        events.publish(*consent_changed(brand.id, contact, updated, cause=ConsentEvent.OPT_OUT_FROM_EMAIL, now=now))
    return "applied"


def handle_message(message: ReceivedMessage, *, store: DocumentStore, journal_for: Callable[[str], Journal],
                   events: Publisher, clock: Clock) -> str:
    """Parse one "provider-events" message and process it once (malformed: PermanentError)."""
    try:
        event = ProviderEvent.model_validate(message.body)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise PermanentError(f"malformed provider event: {fields}") from exc
    return process(event, message.message_id, store=store, journal_for=journal_for, events=events, clock=clock)


def provider_event_handler(container: Platform, message: ReceivedMessage) -> None:
    """The handler both the Service Bus trigger and the local worker call."""
    handle_message(message, store=container.store, journal_for=container.journal, events=container.events,
                   clock=container.clock)


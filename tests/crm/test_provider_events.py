"""Mailjet event callbacks: authenticated webhook → "provider-events" queue → contact status, counters, black list."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.crm import blacklist, provider_events
from shared.crm import service as contacts
from shared.crm.consent import MemberOptIn
from shared.crm.models import ContactSource, EmailStatus
from shared.crm.views import ContactCreate
from shared.identity import repository
from shared.ports.bus import ReceivedMessage
from tests.builders import add_brand, running_app
from tests.identity.test_profile_api import add_member

BRAND = "acme"
WEBHOOK = "/api/v1/webhooks/mailjet"
SECRET = "s3cret-webhook"  # noqa: S105 - a test value
EMAIL = "zoe@example.com"


def _auth(password: str = SECRET, user: str = "mailjet") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def hook_client(container, monkeypatch):
    container.settings = container.settings.model_copy(update={"mailjet_webhook_secret": SECRET})
    add_brand(container, BRAND, "Acme", manualContactEntry=True)
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def contact(container, hook_client):
    store = container.store.for_brand(BRAND)
    add_member(container, member_id="m1")
    member, _ = repository.get_member(store=store, member_id="m1")
    return contacts.create(store=store, brand=brands.get(store=container.store, brand_id=BRAND), member=member,
                           data=ContactCreate(first_name="Zoe", email=EMAIL), source=ContactSource.MANUAL,
                           hasher=container.hasher(BRAND), now=container.clock.now())


def _event(kind: str, contact_id: str, *, at: int = 1_893_488_400, message_id: int = 42, **extra) -> dict:
    return {"event": kind, "time": at, "MessageID": message_id, "email": EMAIL, "CustomID": "email:abc",
            "Payload": json.dumps({"brandId": BRAND, "contactId": contact_id}), "ip": "203.0.113.9",
            "agent": "Mozilla", **extra}


def _drain(container) -> list[str]:
    """Run the queue handler on every queued provider event, as the Functions trigger would."""
    outcomes = []
    for message in container.bus.receive(provider_events.QUEUE_PROVIDER_EVENTS):
        outcomes.append(provider_events.handle_message(message, store=container.store, journal_for=container.journal,
                                                       events=container.events, clock=container.clock))
        container.bus.complete(provider_events.QUEUE_PROVIDER_EVENTS, message)
    return outcomes


def _stored(container, contact_id):
    return contacts.from_document(container.store.for_brand(BRAND).get("contacts", contact_id))[0]


def test_a_hard_bounce_blocks_the_contact_and_blacklists_the_hash(hook_client, container, contact):
    assert contacts.may_send(store=container.store.for_brand(BRAND), contact=contact, purpose="invitation")
    answer = hook_client.post(WEBHOOK, headers=_auth(), json=[_event("bounce", contact.id, hard_bounce=True,
                                                                        error_related_to="recipient",
                                                                        error="user unknown")])
    assert answer.status_code == 200 and answer.json() == {"accepted": 1}
    assert _drain(container) == ["applied"]
    stored = _stored(container, contact.id)
    assert stored.email_status == EmailStatus.HARD_BOUNCE
    store = container.store.for_brand(BRAND)
    assert blacklist.reasons(store=store, email_hash=contact.email_hash) == ["hard_bounce"]
    assert not contacts.may_send(store=store, contact=stored, purpose="invitation")


def test_the_queued_event_holds_no_address_ip_or_agent(hook_client, container, contact):
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("open", contact.id)])
    [message] = container.bus.receive(provider_events.QUEUE_PROVIDER_EVENTS)
    text = json.dumps(message.body)
    assert EMAIL not in text and "203.0.113.9" not in text and "Mozilla" not in text
    assert message.body["emailHash"] == contact.email_hash
    assert message.message_id == "mj:open:42:1893488400"


@pytest.mark.parametrize("event, extra, status, reasons", [
    ("bounce", {"hard_bounce": False}, EmailStatus.SOFT_BOUNCE, []),
    ("bounce", {"hard_bounce": True}, EmailStatus.HARD_BOUNCE, ["hard_bounce"]),
    ("spam", {}, EmailStatus.SPAM, ["spam"]),
    ("blocked", {}, EmailStatus.BLOCKED, ["blocked"]),
    ("sent", {}, EmailStatus.VALID, []),
])
def test_each_provider_verdict_sets_the_guide_status(hook_client, container, contact, event, extra, status, reasons):
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event(event, contact.id, **extra)])
    _drain(container)
    assert _stored(container, contact.id).email_status == status
    assert blacklist.reasons(store=container.store.for_brand(BRAND), email_hash=contact.email_hash) == reasons


def test_a_soft_bounce_never_weakens_a_definitive_status(hook_client, container, contact):
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("spam", contact.id, message_id=1),
                                                     _event("bounce", contact.id, message_id=2, hard_bounce=False)])
    _drain(container)
    assert _stored(container, contact.id).email_status == EmailStatus.SPAM


def test_a_replayed_event_changes_nothing(hook_client, container, contact):
    click = _event("click", contact.id, url="https://shop.example/p")
    hook_client.post(WEBHOOK, headers=_auth(), json=[click])
    assert _drain(container) == ["applied"]
    first = container.store.for_brand(BRAND).get("contacts", contact.id)
    # The same callback again is dropped by the bus's duplicate detection...
    hook_client.post(WEBHOOK, headers=_auth(), json=[click])
    _drain(container)
    # ...and a redelivery of the message past that window meets the processed-event marker.
    body = provider_events.ProviderEvent.model_validate(
        {**provider_events.parse_mailjet([click], container.hasher)[0].model_dump(by_alias=True)})
    message = ReceivedMessage(body=body.model_dump(mode="json", by_alias=True), message_id=body.message_id,
                              delivery_count=2)
    container.clock.advance(timedelta(days=1))
    assert provider_events.handle_message(message, store=container.store, journal_for=container.journal,
                                                       events=container.events, clock=container.clock) == "duplicate"
    again = container.store.for_brand(BRAND).get("contacts", contact.id)
    assert again["interactions"] == first["interactions"] and again["interactions"]["clicks"] == 1


def test_a_click_counts_as_activity_an_open_does_not(hook_client, container, contact):
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("open", contact.id, at=1_893_488_400)])
    _drain(container)
    opened = _stored(container, contact.id)
    assert opened.interactions.views == 1 and opened.last_activity_at is None
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("click", contact.id, at=1_893_500_000)])
    _drain(container)
    clicked = _stored(container, contact.id)
    assert clicked.interactions.clicks == 1 and clicked.interactions.last_click_at is not None
    assert clicked.last_activity_at == clicked.interactions.last_click_at


def test_an_unsubscribe_opts_out_of_the_member_without_blacklisting(hook_client, container, contact):
    hook_client.post(WEBHOOK, headers=_auth(), json=[_event("unsub", contact.id)])
    _drain(container)
    assert _stored(container, contact.id).member_opt_in == MemberOptIn.OPT_OUT_EMAIL
    assert not blacklist.is_blocked(store=container.store.for_brand(BRAND), email_hash=contact.email_hash)


def test_an_event_without_contact_still_blacklists_a_definitive_error(hook_client, container, contact):
    event = _event("spam", contact.id, Payload=json.dumps({"brandId": BRAND}))
    hook_client.post(WEBHOOK, headers=_auth(), json=[event])
    assert _drain(container) == ["applied"]
    assert blacklist.reasons(store=container.store.for_brand(BRAND), email_hash=contact.email_hash) == ["spam"]
    assert _stored(container, contact.id).email_status == EmailStatus.VALID


def test_the_contact_is_found_through_our_email_record(hook_client, container, contact):
    container.store.for_brand(BRAND).create("emails", {"id": "campaign:1:ct", "status": "sent",
                                                       "contactId": contact.id})
    event = _event("spam", contact.id, CustomID="campaign:1:ct", Payload=json.dumps({"brandId": BRAND}))
    hook_client.post(WEBHOOK, headers=_auth(), json=[event])
    _drain(container)
    assert _stored(container, contact.id).email_status == EmailStatus.SPAM


@pytest.mark.parametrize("headers", [{}, _auth("wrong"), _auth(user="other"), {"Authorization": "Basic %%%"},
                                     {"Authorization": "Bearer " + SECRET}])
def test_an_unauthenticated_callback_is_refused(hook_client, container, contact, headers):
    answer = hook_client.post(WEBHOOK, headers=headers, json=[_event("spam", contact.id)])
    assert answer.status_code == 401
    assert container.bus.receive(provider_events.QUEUE_PROVIDER_EVENTS) == []


@pytest.mark.parametrize("body, field, status", [
    ("not json", "body", 400),  # malformed JSON is a 400 on every route (issue 11)
    ("42", "body", 422),
    (json.dumps([{"event": "spam", "MessageID": 1}]), "[0].time", 422),
    (json.dumps([{"event": "open", "time": "soon", "MessageID": 1}]), "[0].time", 422),
    (json.dumps([{"time": 1, "MessageID": 1}]), "[0].event", 422),
])
def test_a_bad_payload_answers_4xx_naming_the_field_and_queues_nothing(hook_client, container, body, field, status):
    answer = hook_client.post(WEBHOOK, headers={**_auth(), "Content-Type": "application/json"}, content=body)
    assert answer.status_code == status
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert container.bus.receive(provider_events.QUEUE_PROVIDER_EVENTS) == []


def test_unknown_event_types_are_accepted_and_dropped(hook_client, container, contact):
    answer = hook_client.post(WEBHOOK, headers=_auth(), json=[_event("future_event", contact.id)])
    assert answer.status_code == 200 and answer.json() == {"accepted": 0}


def test_the_worker_routes_the_queue_to_this_handler(container):
    from popsell.registry import queue_handlers

    handler = queue_handlers(container)[provider_events.QUEUE_PROVIDER_EVENTS]
    assert handler.func is provider_events.provider_event_handler

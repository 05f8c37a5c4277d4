"""The invitation lifecycle runs day by day on the settable clock exactly as the guide says (contacts retention)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.clock import parse_instant
from shared.crm import invitations, service
from shared.crm.models import ContactSource
from shared.crm.sources import SourceInput
from shared.crm.views import ContactCreate
from shared.gdpr.retention import nightly
from shared.identity import repository
from tests.builders import sent_emails
from tests.identity.test_profile_api import add_member

DAY = timedelta(days=1)
BRAND = "acme"


@pytest.fixture
def brand(container):
    brand, _ = brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": BRAND, "name": "Acme", "pro": 2, "manualContactEntry": True}))
    add_member(container)
    return brand


def new_contact(container, email="zoe@example.com", source=ContactSource.MANUAL, **params):
    store = container.store.for_brand(BRAND)
    member, _ = repository.get_member(store=store, member_id="m1")
    return service.create(store=store, brand=brands.get(store=container.store, brand_id=BRAND), member=member,
                          data=ContactCreate(first_name="Zoe", email=email), source=source,
                          hasher=container.hasher(BRAND), now=container.clock.now(), params=SourceInput(**params))


def stored(container, contact_id):
    return container.store.for_brand(BRAND).get("contacts", contact_id)


def outbox(container):
    return sent_emails(container, BRAND, "contact_invitation")


def run(container):
    report = nightly.run(container=container, family="contacts")
    assert report["failedBrands"] == []
    return report


def days_until(container, clock, day, contact_id, start):
    """Run every day up to the day before `day`; the contact's state on that eve."""
    while clock.now() < start + (day - 1) * DAY:
        clock.advance(DAY)
        run(container)
    return stored(container, contact_id)


def test_the_invitation_lifecycle_runs_day_by_day_exactly_as_the_guide_says(container, clock, brand):
    start = clock.now()
    contact = new_contact(container)
    invited_on = 10
    days_until(container, clock, invited_on + 1, contact.id, start)
    member, _ = repository.get_member(store=container.store.for_brand(BRAND), member_id="m1")
    invitations.invite(container=container, brand=brand, member=member, contact_id=contact.id, now=clock.now())
    assert len(outbox(container)) == 1

    # Day 25 (invitation + 15): sent again, once — not on day 24.
    eve = days_until(container, clock, invited_on + 15, contact.id, start)
    assert eve["memberOptIn"] == "invitation_sent" and len(outbox(container)) == 1
    clock.advance(DAY)
    report = run(container)
    assert report["brands"][BRAND]["contact_invitation_pending"]["resent"] == 1
    assert len(outbox(container)) == 2
    assert stored(container, contact.id)["invitation"]["resentAt"]
    run(container)  # the same day again changes nothing
    assert len(outbox(container)) == 2

    # Day 40 (+15 more): "opt-out no action from an invitation email" — not on day 39, no third email.
    eve = days_until(container, clock, invited_on + 30, contact.id, start)
    assert eve["memberOptIn"] == "invitation_sent"
    clock.advance(DAY)
    run(container)
    after = stored(container, contact.id)
    assert after["memberOptIn"] == "opt_out_no_action" and parse_instant(after["memberOptInAt"]) == clock.now()
    assert after["retention"]["rule"] == "contact_opted_out"
    before = {k: v for k, v in after.items() if not k.startswith("_")}
    run(container)
    assert {k: v for k, v in stored(container, contact.id).items() if not k.startswith("_")} == before
    assert len(outbox(container)) == 2

    # Opted out: kept one year with the email hidden, then erased (hashes kept).
    opted_out_at = clock.now()
    clock.advance(364 * DAY)
    run(container)
    kept = stored(container, contact.id)
    assert kept["status"] == "active" and service.email_hidden(service.from_document(kept)[0])
    clock.advance(DAY)
    assert clock.now() == opted_out_at + 365 * DAY
    run(container)
    erased = stored(container, contact.id)
    assert erased["status"] == "erased" and erased["email"] is None and erased["emailHash"] == contact.email_hash
    assert len(outbox(container)) == 2


def test_an_accepted_invitation_stops_the_resend(container, clock, brand):
    contact = new_contact(container)
    member, _ = repository.get_member(store=container.store.for_brand(BRAND), member_id="m1")
    invitations.invite(container=container, brand=brand, member=member, contact_id=contact.id, now=clock.now())
    clock.advance(3 * DAY)
    doc = stored(container, contact.id)
    updated = service.from_document(doc)[0]
    from shared.crm import consent
    from shared.crm.consent import ConsentEvent

    accepted = updated.with_consent(consent.transition(updated.consent, ConsentEvent.INVITATION_ACCEPTED,
                                                       clock.now()))
    container.store.for_brand(BRAND).replace("contacts", service.to_document(accepted, brand), etag=doc["_etag"])
    for _ in range(40):
        clock.advance(DAY)
        run(container)
    assert stored(container, contact.id)["memberOptIn"] == "invitation_accepted"
    assert len(outbox(container)) == 1


@pytest.mark.parametrize(("source", "params", "due_day"), [
    pytest.param(ContactSource.MANUAL, {}, 30, id="never invited: 30 days"),
    pytest.param(ContactSource.BLOG_POPIN, {"member_opt_in_asked": True}, 15, id="email unconfirmed: 15 days"),
])
def test_contacts_waiting_for_something_are_erased_on_their_day(container, clock, brand, source, params, due_day):
    start = clock.now()
    contact = new_contact(container, source=source, **params)
    eve = days_until(container, clock, due_day, contact.id, start)
    assert eve["status"] == "active"
    clock.advance(DAY)
    run(container)
    erased = stored(container, contact.id)
    assert erased["status"] == "erased" and erased["firstName"] is None and erased["emailHash"] == contact.email_hash
    assert erased["retention"] == {}
    assert outbox(container) == []


def test_a_click_keeps_a_contact_three_more_years_but_an_open_does_not(container, clock, brand):
    start = clock.now()
    params = {"member_opt_in_asked": True, "brand_opt_in_asked": True}
    clicked = new_contact(container, email="clicked@example.com", source=ContactSource.EXTERNAL_FORM, **params)
    opened = new_contact(container, email="opened@example.com", source=ContactSource.EXTERNAL_FORM, **params)
    clock.advance(100 * DAY)
    store = container.store.for_brand(BRAND)
    for contact_id, field in ((clicked.id, "lastClickAt"), (opened.id, "lastViewAt")):
        doc = store.get("contacts", contact_id)
        doc["interactions"][field] = clock.now().isoformat()
        store.replace("contacts", {k: v for k, v in doc.items() if not k.startswith("_")}, etag=doc["_etag"])
    clock.advance((1095 - 100 - 1) * DAY)
    run(container)
    assert stored(container, opened.id)["status"] == "active"
    clock.advance(DAY)
    assert clock.now() == start + 1095 * DAY
    run(container)
    assert stored(container, opened.id)["status"] == "erased"
    assert stored(container, clicked.id)["status"] == "active"
    clock.advance(99 * DAY)
    run(container)
    assert stored(container, clicked.id)["status"] == "active"
    clock.advance(DAY)
    run(container)
    assert stored(container, clicked.id)["status"] == "erased"


def test_a_dry_run_changes_nothing(container, clock, brand):
    contact = new_contact(container)
    clock.advance(30 * DAY)
    report = nightly.run(container=container, family="contacts", dry_run=True)
    assert report["planned"][BRAND]
    assert stored(container, contact.id)["status"] == "active"


def test_a_contact_whose_invitation_bounced_is_not_invited_again_and_the_report_says_so(container, clock, brand):
    from shared.crm import provider_events

    contact = new_contact(container)
    member, _ = repository.get_member(store=container.store.for_brand(BRAND), member_id="m1")
    invitations.invite(container=container, brand=brand, member=member, contact_id=contact.id, now=clock.now())
    assert len(outbox(container)) == 1
    bounce = provider_events.ProviderEvent(event="bounce", at=clock.now(), provider_message_id="42",
                                           brand_id=BRAND, contact_id=contact.id, hard_bounce=True)
    assert provider_events.process(bounce, bounce.message_id, store=container.store, journal_for=container.journal,
                                   events=container.events, clock=clock) == "applied"
    assert stored(container, contact.id)["emailStatus"] == "hard_bounce"

    clock.advance(15 * DAY)  # the day of the second invitation
    report = run(container)
    counted = report["brands"][BRAND]["contact_invitation_pending"]
    assert (counted.get("resent", 0), counted["skipped_blocked"]) == (0, 1)
    assert report["totals"]["skipped_blocked"] == 1 and "resent" not in report["totals"]
    assert len(outbox(container)) == 1  # nothing was sent
    assert stored(container, contact.id)["invitation"]["resentAt"] is None

    clock.advance(15 * DAY)  # the second period ends all the same: opted out, no email
    run(container)
    assert stored(container, contact.id)["memberOptIn"] == "opt_out_no_action"
    assert len(outbox(container)) == 1

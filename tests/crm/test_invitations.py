"""Invitations through the App API: who may be invited, the accept/decline links, single use, consent."""

from __future__ import annotations

import re

import pytest

from shared.brands import service as brands
from shared.crm import blacklist, invitations, service
from shared.crm.consent import BrandOptIn, MemberOptIn
from shared.crm.models import ContactSource
from shared.crm.sources import SourceInput
from shared.crm.views import ContactCreate
from shared.identity import repository
from tests.builders import add_brand, running_app, sent_emails
from tests.identity.test_profile_api import add_member, app_headers

BRAND = "acme"
APP = f"/api/v1/app/{BRAND}"
OPTED_IN = {"source": ContactSource.EXTERNAL_FORM, "member_opt_in_asked": True, "brand_opt_in_asked": True}


@pytest.fixture
def inv_client(container):
    add_brand(container, BRAND, "Acme", pro=2, manualContactEntry=True)
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def members(container, inv_client):
    return {member_id: app_headers(container, add_member(container, member_id=member_id))
            for member_id in ("m1", "m2")}


def new_contact(container, member_id="m1", email="zoe@example.com", source=ContactSource.MANUAL, **params):
    store = container.store.for_brand(BRAND)
    member, _ = repository.get_member(store=store, member_id=member_id)
    return service.create(store=store, brand=brands.get(store=container.store, brand_id=BRAND), member=member,
                          data=ContactCreate(first_name="Zoe", email=email), source=source,
                          hasher=container.hasher(BRAND), now=container.clock.now(), params=SourceInput(**params))


def outbox(container):
    return sent_emails(container, BRAND, "contact_invitation")


def tokens(mail) -> dict[str, str]:
    text = mail.get("text") or mail.get("bodyText") or str(mail)
    return dict(re.findall(r"/invitation/(accept|decline)#token=([A-Za-z0-9_\-]+)", text))


def stored(container, contact_id):
    return container.store.for_brand(BRAND).get("contacts", contact_id)


def test_an_invitation_is_emailed_once_with_accept_and_decline_links(inv_client, container, members):
    contact = new_contact(container)
    response = inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"])
    assert response.status_code == 200, response.text
    assert response.json()["memberOptIn"]["value"] == "invitation_sent"
    again = inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"])
    assert again.status_code == 409 and again.json()["type"].endswith("invitation-already-sent")
    mails = outbox(container)
    assert len(mails) == 1 and set(tokens(mails[0])) == {"accept", "decline"}
    doc = stored(container, contact.id)
    assert doc["invitation"]["sentAt"] and doc["retention"]["rule"] == "contact_invitation_pending"


def test_another_members_contact_answers_404(inv_client, container, members):
    contact = new_contact(container)
    response = inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m2"])
    assert response.status_code == 404
    assert outbox(container) == []


@pytest.mark.parametrize("make", [
    pytest.param(lambda c: new_contact(c, **OPTED_IN), id="already opted in"),
    pytest.param(lambda c: _blacklisted(c), id="blacklisted"),
])
def test_contacts_whose_consent_does_not_allow_an_invitation_get_none(inv_client, container, members, make):
    contact = make(container)
    response = inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"])
    assert response.status_code == 409 and response.json()["type"].endswith("invitation-not-allowed")
    assert outbox(container) == []
    assert stored(container, contact.id)["memberOptIn"] == contact.member_opt_in.value


def _blacklisted(container):
    contact = new_contact(container)
    blacklist.add(store=container.store.for_brand(BRAND), email_hash=contact.email_hash,
                  reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT,
                  now=container.clock.now(), journal=container.journal(BRAND))
    return contact


@pytest.mark.parametrize(("path", "answer", "opt_in"), [
    ("accept", "accepted", MemberOptIn.INVITATION_ACCEPTED),
    ("decline", "declined", MemberOptIn.INVITATION_DECLINED),
])
def test_the_contact_answers_once_by_link(inv_client, container, members, path, answer, opt_in):
    contact = new_contact(container)
    inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"])
    links = tokens(outbox(container)[0])
    response = inv_client.post(f"{APP}/invitations/{path}", json={"token": links[path]})
    assert response.status_code == 200, response.text
    assert response.json() == {"answer": answer}
    doc = stored(container, contact.id)
    assert doc["memberOptIn"] == opt_in.value and doc["memberOptInAt"]
    assert inv_client.post(f"{APP}/invitations/{path}", json={"token": links[path]}).status_code == 410
    other = "decline" if path == "accept" else "accept"
    assert inv_client.post(f"{APP}/invitations/{other}", json={"token": links[other]}).status_code == 409
    assert stored(container, contact.id)["memberOptIn"] == opt_in.value


def test_a_forged_or_crossed_token_changes_nothing(inv_client, container, members):
    contact = new_contact(container)
    inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"])
    links = tokens(outbox(container)[0])
    forged = inv_client.post(f"{APP}/invitations/accept", json={"token": "nope"})
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "token"
    crossed = inv_client.post(f"{APP}/invitations/accept", json={"token": links["decline"]})
    assert crossed.status_code == 422
    assert inv_client.post(f"{APP}/invitations/accept", json={}).status_code == 422
    assert stored(container, contact.id)["memberOptIn"] == "invitation_sent"


def test_a_leaving_member_takes_only_the_contacts_without_a_brand_opt_in(inv_client, container, members):
    kept = new_contact(container, email="kept@example.com", **OPTED_IN)
    gone = new_contact(container, email="gone@example.com")
    other = new_contact(container, member_id="m2", email="other@example.com")
    store = container.store.for_brand(BRAND)
    assert invitations.on_member_erased(store=store, journal=container.journal(BRAND), member_id="m1",
                                        now=container.clock.now()) == 1
    assert stored(container, kept.id)["status"] == "active" and kept.brand_opt_in == BrandOptIn.EXTERNAL_FORM
    erased = stored(container, gone.id)
    assert erased["status"] == "erased" and erased["email"] is None and erased["emailHash"] == gone.email_hash
    assert stored(container, other.id)["status"] == "active"
    assert invitations.on_member_erased(store=store, journal=container.journal(BRAND), member_id="m1",
                                        now=container.clock.now()) == 0


def test_a_bounce_of_an_invitation_finds_its_contact(inv_client, container, members):
    """The invitation carries the contact's ids to the provider, so its bounce reaches the contact."""
    from shared.crm import provider_events
    from shared.emails.models import EMAILS_CONTAINER
    from shared.emails.service import email_record_id
    from shared.ports.bus import ReceivedMessage

    contact = new_contact(container)
    assert inv_client.post(f"{APP}/contacts/{contact.id}/invitation", headers=members["m1"]).status_code == 200
    [mail] = outbox(container)
    record = container.store.for_brand(BRAND).get(EMAILS_CONTAINER, email_record_id(mail["messageId"]))
    assert record["contactId"] == contact.id
    event = provider_events.ProviderEvent(event="bounce", at=container.clock.now(), provider_message_id="1",
                                          custom_id=mail["messageId"], brand_id=BRAND, hard_bounce=True)
    provider_events.handle_message(ReceivedMessage(body=event.model_dump(mode="json", by_alias=True),
                                                   message_id=event.message_id, delivery_count=1),
                                   store=container.store, journal_for=container.journal, events=container.events,
                                   clock=container.clock)
    assert stored(container, contact.id)["emailStatus"] == "hard_bounce"

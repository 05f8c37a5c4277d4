"""Email status shown to the member: blocking statuses stop sends; only a soft bounce is released, by its member."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from shared.crm import service as contacts
from shared.crm.email_status import EMAIL_STATUS_TABLE, after_provider
from shared.crm.models import BLOCKING_EMAIL_STATUSES, ContactSource, EmailStatus
from shared.crm.views import ContactCreate
from shared.identity import repository
from tests.builders import add_brand, running_app
from tests.identity.test_profile_api import add_member, app_headers

BRAND = "acme"
CONTACTS = f"/api/v1/app/{BRAND}/contacts"


@pytest.fixture
def app_client(container):
    add_brand(container, BRAND, "Acme", manualContactEntry=True)
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def members(container, app_client):
    return {member_id: app_headers(container, add_member(container, member_id=member_id)) for member_id in ("m1", "m2")}


def _contact_with(container, status: EmailStatus):
    store = container.store.for_brand(BRAND)
    member, _ = repository.get_member(store=store, member_id="m1")
    contact = contacts.create(store=store, brand=brands.get(store=container.store, brand_id=BRAND), member=member,
                              data=ContactCreate(first_name="Zoe", email="zoe@example.com"),
                              source=ContactSource.MANUAL, hasher=container.hasher(BRAND), now=container.clock.now())
    doc = store.get("contacts", contact.id)
    store.replace("contacts", {**doc, "emailStatus": status.value}, etag=doc["_etag"])
    return contacts.from_document(store.get("contacts", contact.id))[0]


# The guide's table: status → (blocks sending, releasable by the member).
GUIDE = [
    (EmailStatus.VALID, False, False),
    (EmailStatus.NOT_VERIFIED, False, False),
    (EmailStatus.SOFT_BOUNCE, True, True),
    (EmailStatus.HARD_BOUNCE, True, False),
    (EmailStatus.SPAM, True, False),
    (EmailStatus.BLOCKED, True, False),
]


@pytest.mark.parametrize("status, blocks, releasable", GUIDE)
def test_the_status_table_follows_the_guide(status, blocks, releasable):
    assert EMAIL_STATUS_TABLE[status].blocks_sending is blocks
    assert EMAIL_STATUS_TABLE[status].member_releasable is releasable
    assert (status in BLOCKING_EMAIL_STATUSES) is blocks


@pytest.mark.parametrize("status, blocks, releasable", GUIDE)
def test_no_email_goes_to_a_blocked_status_and_the_member_sees_it(container, members, app_client, status, blocks,
                                                                  releasable):
    contact = _contact_with(container, status)
    # An invitation is the one send a "new" contact may get: only the email status can stop it here.
    assert contacts.may_send(store=container.store.for_brand(BRAND), contact=contact,
                             purpose="invitation") is not blocks
    shown = app_client.get(f"{CONTACTS}/{contact.id}", headers=members["m1"]).json()
    assert shown["emailStatus"] == status.value


@pytest.mark.parametrize("status, blocks, releasable", GUIDE)
def test_only_a_soft_bounce_can_be_released(container, members, app_client, status, blocks, releasable):
    contact = _contact_with(container, status)
    answer = app_client.post(f"{CONTACTS}/{contact.id}/email-status/release", headers=members["m1"])
    assert answer.status_code == (200 if releasable else 409), answer.text
    stored = contacts.from_document(container.store.for_brand(BRAND).get("contacts", contact.id))[0]
    assert stored.email_status == (EmailStatus.VALID if releasable else status)
    if releasable:
        assert answer.json()["emailStatus"] == "valid"
        assert contacts.may_send(store=container.store.for_brand(BRAND), contact=stored, purpose="invitation")


def test_another_member_or_an_anonymous_caller_cannot_release(container, members, app_client):
    contact = _contact_with(container, EmailStatus.SOFT_BOUNCE)
    url = f"{CONTACTS}/{contact.id}/email-status/release"
    assert app_client.post(url, headers=members["m2"]).status_code == 404
    assert app_client.post(url).status_code == 401
    stored = contacts.from_document(container.store.for_brand(BRAND).get("contacts", contact.id))[0]
    assert stored.email_status == EmailStatus.SOFT_BOUNCE


@pytest.mark.parametrize("current, reported, result", [
    (EmailStatus.VALID, EmailStatus.SOFT_BOUNCE, EmailStatus.SOFT_BOUNCE),
    (EmailStatus.SOFT_BOUNCE, EmailStatus.HARD_BOUNCE, EmailStatus.HARD_BOUNCE),
    (EmailStatus.HARD_BOUNCE, EmailStatus.SOFT_BOUNCE, EmailStatus.HARD_BOUNCE),
    (EmailStatus.SPAM, EmailStatus.BLOCKED, EmailStatus.BLOCKED),
    (EmailStatus.BLOCKED, EmailStatus.SOFT_BOUNCE, EmailStatus.BLOCKED),
])
def test_a_definitive_status_is_never_weakened_by_the_provider(current, reported, result):
    assert after_provider(current, reported) == result

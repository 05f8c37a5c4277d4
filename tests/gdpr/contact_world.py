"""A brand with two members who hold the same person as a contact, and the steps of the contacts' rights page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.crm import service
from shared.crm.models import Contact, ContactSource
from shared.crm.sources import SourceInput
from shared.crm.views import ContactCreate
from shared.identity import repository
from tests.builders import deliver_emails as deliver
from tests.identity.test_profile_api import add_member, app_headers

BRAND, OTHER = "acme", "globex"
RIGHTS = f"/api/v1/contacts/{BRAND}/rights"
ZOE = "zoe.martin@example.com"
MAX = "max.roy@example.com"
PERSONAL = ("zoe.martin", "Zoé", "Martin", "Zoe", "Martinez", "Max", "max.roy")


@pytest.fixture
def brand(client, container, manager_token):
    """acme and globex (manual entry allowed, for invitations), members m1 and m2 of acme, m1 of globex."""
    for brand_id in (BRAND, OTHER):
        response = client.post("/api/v1/manager/brands", headers=manager_token("operator"), json={
            "id": brand_id, "name": brand_id.title(), "manualContactEntry": True,
            "allowedDomains": [f"{brand_id}.example"]})
        assert response.status_code == 201, response.text
    for member_id in ("m1", "m2"):
        add_member(container, member_id=member_id)
    add_member(container, brand_id=OTHER, member_id="m1")
    return container


def member(container, member_id="m1", brand_id=BRAND) -> dict[str, str]:
    found, _ = repository.get_member(store=container.store.for_brand(brand_id), member_id=member_id)
    return app_headers(container, found, brand_id=brand_id, ttl=timedelta(days=400))


def contact(container, email=ZOE, member_id="m1", *, opted_in=True, brand_id=BRAND, first_name="Zoe",
            tags=("vip",)) -> Contact:
    """A contact of a member: opted in to the member and the brand (brand sync), or new (manual entry)."""
    store = container.store.for_brand(brand_id)
    holder, _ = repository.get_member(store=store, member_id=member_id)
    source = ContactSource.BRAND_SYNC if opted_in else ContactSource.MANUAL
    return service.create(store=store, brand=brands.get(store=container.store, brand_id=brand_id), member=holder,
                          data=ContactCreate(first_name=first_name, last_name="Martin", email=email, tags=list(tags),
                                             address={"city": "Lyon", "postalCode": "69001"}),
                          source=source, hasher=container.hasher(brand_id), now=container.clock.now(),
                          params=SourceInput(imported_opt_in=True))


def mails(container, template: str | None = None, to: str | None = None, brand_id=BRAND) -> list[dict]:
    """What left by email (oldest first), after sending what is queued."""
    deliver(container)
    sent = reversed(container.mailer.list(brand_id=brand_id, limit=1000))
    return [mail for mail in sent if template in (None, mail["template"]) and to in (None, mail["toEmail"])]


def ask_proof(client, email=ZOE, brand_id=BRAND):
    return client.post(f"/api/v1/contacts/{brand_id}/rights/proof", json={"email": email})


def proof_token(client, container, email=ZOE, brand_id=BRAND) -> str:
    """Ask for the link and read its token from the email, as the person would."""
    assert ask_proof(client, email, brand_id).status_code == 202
    links = mails(container, "contact_rights_link", email, brand_id=brand_id)
    assert links, "no proof link was emailed"
    return re.search(r"#token=([A-Za-z0-9_-]+)", links[-1]["text"])[1]


def open_session(client, token: str, brand_id=BRAND):
    return client.post(f"/api/v1/contacts/{brand_id}/rights/session", json={"token": token})


def session(client, container, email=ZOE, brand_id=BRAND) -> dict[str, str]:
    """Bearer headers of a rights session on `email`."""
    opened = open_session(client, proof_token(client, container, email, brand_id), brand_id)
    assert opened.status_code == 201, opened.text
    return {"Authorization": f"Bearer {opened.json()['sessionToken']}"}


def ask(client, headers, brand_id=BRAND, **body):
    return client.post(f"/api/v1/contacts/{brand_id}/rights/requests", headers=headers, json=body)


def stored(container, contact_id, brand_id=BRAND) -> dict:
    return container.store.for_brand(brand_id).get("contacts", contact_id)

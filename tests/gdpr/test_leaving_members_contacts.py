"""A leaving member's contacts: only those with a brand opt-in for communications stay (docs/decisions/0022).

The guide: "All his contacts are also deleted, except those having an opt-in for the Brand." "Storage
only" (implicitly informed, "no opt-in obtained") and "no opt-in" are no opt-in for the brand: those
contacts are deleted (hashed) with the member, whatever erased them (unsubscription, end of contract,
inactivity, an erasure request). Contacts are made through the Widget form, the App and the brand's
signed sync; the member leaves through the App or the Manager; the timers run on the settable clock.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.identity import repository
from shared.identity.models import Role
from shared.ports.bus import QUEUE_EMAILS
from tests.builders import timer
from tests.crm.capture_world import ORIGIN, POLICY, external_form
from tests.identity.test_profile_api import add_member, app_headers
from tests.integrations.brand_platform import create_brand, signed_call

BRAND = "acme"
MANAGER = f"/api/v1/manager/brands/{BRAND}"
APP = f"/api/v1/app/{BRAND}"
DAY = timedelta(days=1)
KEPT = ("form-brand", "sync-brand")  # opt-ins for communications: from the Popsell external form, the brand database
GONE = ("form-storage", "sync-storage", "manual-none")  # storage only (twice), no opt-in


class Crm:
    """A direct-selling brand, its member m1 and m1's contacts of every brand opt-in, made through the APIs."""

    def __init__(self, client, container, manager_token):
        self.client, self.container, self.token = client, container, manager_token
        self.key = create_brand(client, manager_token, BRAND, pro=2, manualContactEntry=True,
                                widgetAllowedOrigins=[ORIGIN], privacyPolicyUrl=POLICY)
        add_member(container, member_id="m1", role=Role.AMBASSADOR, email_verified_at=container.clock.now())
        add_member(container, member_id="m2", role=Role.AMBASSADOR)
        self.ids = {
            "form-storage": self.form("storage@example.com"),
            "form-brand": self.form("brand@example.com", brandOptIn=True),
            "sync-storage": self.sync("ext-1", "sstorage@example.com"),
            "sync-brand": self.sync("ext-2", "sbrand@example.com", optIn=True),
            "manual-none": self.manual("none@example.com"),
        }
        self.other = self.form("other@example.com", member="m2")

    @property
    def store(self):
        return self.container.store.for_brand(BRAND)

    def headers(self, member_id="m1"):
        return app_headers(self.container, repository.get_member(store=self.store, member_id=member_id)[0])

    def form(self, email, member="m1", **ticks):
        external_form(self.client, self.container, member, email, **ticks)
        hashed = self.container.hasher(BRAND)("email", email)
        return next(doc["id"] for doc in self.store.query_all("contacts") if doc["emailHash"] == hashed)

    def sync(self, external_id, email, **body):
        self.container.clock.advance(timedelta(seconds=1))  # a signature is used once
        response = signed_call(self.client, "PUT", f"/api/v1/integrations/{BRAND}/contacts/{external_id}",
                               key=self.key, now=self.container.clock.now(),
                               body={"memberId": "m1", "firstName": "Zoe", "email": email, **body})
        assert response.status_code == 201, response.text
        return response.json()["contactId"]

    def manual(self, email):
        response = self.client.post(f"{APP}/contacts", headers=self.headers(),
                                    json={"firstName": "Zoe", "email": email})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def contact(self, key):
        return self.store.get("contacts", self.ids[key])

    def manager_sees(self):
        response = self.client.get(f"{MANAGER}/contacts", headers=self.token("viewer", BRAND))
        assert response.status_code == 200, response.text
        return {key for key, contact_id in self.ids.items() if contact_id in
                {item["id"] for item in response.json()["items"]}}

    def manager_reads(self, key):
        return self.client.get(f"{MANAGER}/contacts/{self.ids[key]}", headers=self.token("viewer", BRAND))

    def assert_only_communications_opt_ins_left(self):
        for key in GONE:
            gone = self.contact(key)
            assert gone["status"] == "erased" and gone["email"] is None and gone["firstName"] is None, key
            assert gone["emailHash"], key  # deleted the guide's way: hashed
            assert self.manager_reads(key).status_code == 404
        for key in KEPT:
            kept = self.contact(key)
            assert kept["status"] == "active" and kept["email"] and kept["firstName"] == "Zoe", key
            assert self.manager_reads(key).status_code == 200
        assert self.manager_sees() == set(KEPT)
        assert self.store.get("contacts", self.other)["status"] == "active"  # another member's contact


@pytest.fixture
def crm(client, container, manager_token):
    made = Crm(client, container, manager_token)
    assert (made.contact("form-storage")["brandOptIn"], made.contact("sync-storage")["brandOptIn"],
            made.contact("manual-none")["brandOptIn"]) == ("storage_only", "storage_only", "no_opt_in")
    assert (made.contact("form-brand")["brandOptIn"], made.contact("sync-brand")["brandOptIn"]) == (
        "external_form", "brand_database")
    return made


def test_an_unsubscribing_members_storage_only_and_no_opt_in_contacts_go_after_the_delay(crm, client, container,
                                                                                        clock):
    # The guide's table: storage-only contacts are displayed to the brand while they exist; no opt-in is hidden.
    assert crm.manager_sees() == {"form-storage", "form-brand", "sync-storage", "sync-brand"}
    left = client.post(f"{APP}/me/unsubscribe", headers=crm.headers(), json={"confirm": True})
    assert left.status_code == 202, left.text
    for _ in range(6):
        clock.advance(DAY)
        timer(container, "retention_members")
    assert all(crm.contact(key)["status"] == "active" for key in (*KEPT, *GONE))  # the rollback window
    clock.advance(DAY)
    report = timer(container, "retention_members")
    assert report["brands"][BRAND]["member_unsubscribed"]["erased"] == 1
    crm.assert_only_communications_opt_ins_left()


def _end_of_contract(crm, client, container, clock):
    ended = client.post(f"{MANAGER}/members/m1/end-contract", headers=crm.token("admin", BRAND))
    assert ended.status_code == 200, ended.text
    clock.advance(7 * DAY)
    timer(container, "retention_members")


def _inactivity(crm, client, container, clock):
    from shared.clock import isoformat
    from shared.ports.store import PatchOp

    clock.set(crm.created + timedelta(days=1000))
    crm.store.patch(repository.MEMBERS, "m2", [PatchOp("set", "lastActivityAt", isoformat(clock.now()))])  # m2 logs in
    for days in (1065, 1080, 1095):  # m1: two warnings, 15 days apart, then the erasure
        clock.set(crm.created + timedelta(days=days))
        timer(container, "retention_members")


def _erasure_request(crm, client, container, clock):
    asked = client.post(f"{APP}/gdpr/requests", headers=crm.headers(), json={"kind": "erasure"})
    assert asked.status_code == 201, asked.text
    [email] = [message.body for message in container.bus.receive(QUEUE_EMAILS)
               if message.body["template"] == "gdpr_erasure_confirmation"]
    token = re.search(r"#token=([A-Za-z0-9_-]+)$", email["data"]["confirm_url"]).group(1)
    confirmed = client.post(f"{APP}/gdpr/erasure/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text


@pytest.mark.parametrize("leaves", [_end_of_contract, _inactivity, _erasure_request],
                         ids=["end of contract", "inactivity", "erasure request"])
def test_every_erasure_of_a_member_keeps_only_the_contacts_opted_in_for_the_brands_communications(
        crm, client, container, clock, leaves):
    crm.created = repository.get_member(store=crm.store, member_id="m1")[0].created_at
    leaves(crm, client, container, clock)
    assert crm.store.get(repository.MEMBERS, "m1")["status"] == "erased"
    crm.assert_only_communications_opt_ins_left()

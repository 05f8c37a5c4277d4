"""Brand database synchronisation through signed calls: the guide's opt-in rule, idempotency, blacklist, deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.crm import blacklist
from shared.identity.models import Role
from tests.builders import running_app
from tests.identity.test_profile_api import add_member
from tests.integrations.brand_platform import TERMS, create_brand, problem_type, signed_call, sync_member
from tests.races import in_parallel, overlap_reads

DIRECT, CLASSIC = "acme", "plain"


@pytest.fixture
def platform(container, manager_token):
    """The whole app; a direct-selling and a classic brand with members."""
    with running_app(container) as client:
        keys = {DIRECT: create_brand(client, manager_token, DIRECT, pro=2),
                CLASSIC: create_brand(client, manager_token, CLASSIC)}
        add_member(container, brand_id=DIRECT, member_id="m1", role=Role.AMBASSADOR)
        add_member(container, brand_id=DIRECT, member_id="m2", role=Role.AMBASSADOR)
        add_member(container, brand_id=CLASSIC, member_id="amb", role=Role.AMBASSADOR)
        add_member(container, brand_id=CLASSIC, member_id="emp", role=Role.EMPLOYEE)
        yield Platform(client, container, keys)


class Platform:
    """Signed calls as the brand's platform makes them; each call one second later (signatures are single-use)."""

    def __init__(self, client, container, keys):
        self.client, self.container, self.keys = client, container, keys

    def call(self, method, path, brand=DIRECT, body=None, key=None, **overrides):
        self.container.clock.advance(timedelta(seconds=1))
        return signed_call(self.client, method, path, key=key or self.keys[brand], now=self.container.clock.now(),
                           body=body, **overrides)

    def sync(self, external_id, brand=DIRECT, **body):
        return self.call("PUT", f"/api/v1/integrations/{brand}/contacts/{external_id}", brand, body)

    def stored(self, contact_id, brand=DIRECT):
        return self.container.store.for_brand(brand).get("contacts", contact_id)

    def contacts_of(self, member_id, brand=DIRECT):
        from shared.ports.store import Filter

        store = self.container.store.for_brand(brand)
        return store.query_all("contacts", filters=[Filter("memberId", "=", member_id)])


@pytest.mark.parametrize(("brand", "member", "opt_in", "member_opt_in", "brand_opt_in"), [
    (DIRECT, "m1", True, "opt_in_brand_imported", "brand_database"),
    (DIRECT, "m1", None, "new", "storage_only"),
    (DIRECT, "m1", False, "new", "storage_only"),
    (CLASSIC, "emp", True, "opt_in_brand_imported", "brand_database"),
    (CLASSIC, "emp", None, "new", "storage_only"),
])
def test_a_synced_contact_gets_the_imported_opt_in_on_both_sides(platform, brand, member, opt_in, member_opt_in,
                                                                 brand_opt_in):
    body = {"memberId": member, "firstName": "Zoe", "email": "Zoe@Example.com", "customerId": "C-1",
            "address": {"city": "Lyon", "postalCode": "69001", "country": "FR"}, "tags": ["vip"]}
    if opt_in is not None:
        body["optIn"] = opt_in
    response = platform.sync("ext-1", brand, **body)
    assert response.status_code == 201, response.text
    stored = platform.stored(response.json()["contactId"], brand)
    assert (stored["memberOptIn"], stored["brandOptIn"]) == (member_opt_in, brand_opt_in)
    assert stored["memberId"] == member and stored["email"] == "zoe@example.com"
    assert stored["history"]["createdBy"] == "brand_sync" and stored["address"]["city"] == "Lyon"
    assert "zoe" not in response.text.lower()  # no personal data echoed to the platform


def test_the_same_record_twice_is_one_contact_and_a_later_sync_updates_it(platform):
    first = platform.sync("ext-1", memberId="m1", firstName="Zoe", email="zoe@example.com")
    again = platform.sync("ext-1", memberId="m1", firstName="Zoe", email="zoe@example.com")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["contactId"] == again.json()["contactId"]
    assert len(platform.contacts_of("m1")) == 1

    changed = platform.sync("ext-1", memberId="m1", lastName="Martin", optIn=True)
    assert changed.status_code == 200
    stored = platform.stored(first.json()["contactId"])
    assert (stored["firstName"], stored["lastName"]) == ("Zoe", "Martin")
    assert (stored["memberOptIn"], stored["brandOptIn"]) == ("opt_in_brand_imported", "brand_database")
    assert stored["history"]["modifiedBy"] == "brand_sync"


def test_a_record_naming_someone_the_member_already_has_maps_to_that_contact(platform):
    first = platform.sync("ext-1", memberId="m1", email="zoe@example.com")
    other = platform.sync("ext-2", memberId="m1", email="zoe@example.com", firstName="Zoe")
    assert other.status_code == 200 and other.json()["contactId"] == first.json()["contactId"]
    assert len(platform.contacts_of("m1")) == 1


def test_the_member_can_be_named_by_sso_subject(platform):
    key = platform.keys[DIRECT]
    platform.container.clock.advance(timedelta(seconds=1))
    made = sync_member(platform.client, key, platform.container.clock.now(), ssoSubject="emp-42",
                       email="seller@acme.example", role=3, **TERMS)
    assert made.status_code == 201, made.text
    response = platform.sync("ext-9", ssoSubject="emp-42", firstName="Zoe")
    assert response.status_code == 201, response.text
    assert response.json()["memberId"] == made.json()["memberId"]
    assert problem_type(platform.sync("ext-10", ssoSubject="nobody", firstName="Zoe")) == "not-found"


def test_sync_is_refused_outside_direct_selling_for_non_employees(platform):
    response = platform.sync("ext-1", CLASSIC, memberId="amb", firstName="Zoe", optIn=True)
    assert response.status_code == 403 and problem_type(response) == "brand-sync-not-allowed"
    assert platform.contacts_of("amb", CLASSIC) == []


def test_a_blacklisted_address_is_refused_and_nothing_is_written(platform):
    store = platform.container.store.for_brand(DIRECT)
    blocked = platform.container.hasher(DIRECT)("email", "gone@example.com")
    blacklist.add(store=store, email_hash=blocked, reason=blacklist.BlacklistReason.GLOBAL_OPT_OUT,
                  now=platform.container.clock.now(),
                  journal=platform.container.journal(DIRECT))
    response = platform.sync("ext-1", memberId="m1", email="Gone@Example.com", optIn=True)
    assert response.status_code == 409 and problem_type(response) == "contact-blacklisted"
    assert platform.contacts_of("m1") == []

    created = platform.sync("ext-2", memberId="m1", firstName="Zoe")
    assert platform.sync("ext-2", memberId="m1", email="gone@example.com").status_code == 409
    assert platform.stored(created.json()["contactId"])["email"] is None


def test_a_delete_from_the_brand_hashes_the_contact(platform):
    created = platform.sync("ext-1", memberId="m1", firstName="Zoe", lastName="Martin", email="zoe@example.com",
                            customerId="C-1", address={"city": "Lyon", "postalCode": "69001", "country": "FR"},
                            tags=["vip"], optIn=True).json()
    path = f"/api/v1/integrations/{DIRECT}/contacts/ext-1"
    assert platform.call("DELETE", path).status_code == 204
    stored = platform.stored(created["contactId"])
    assert stored["status"] == "erased"
    assert [stored[f] for f in ("firstName", "lastName", "email", "customerId")] == [None] * 4
    assert stored["emailHash"] and stored["customerIdHash"] and stored["tags"] == []
    assert (stored["address"]["city"], stored["address"]["country"]) == ("Lyon", None)
    assert platform.call("DELETE", path).status_code == 204  # deleting again changes nothing
    assert platform.call("DELETE", f"/api/v1/integrations/{DIRECT}/contacts/unknown").status_code == 404

    again = platform.sync("ext-1", memberId="m1", firstName="Zoe")
    assert again.status_code == 201 and again.json()["contactId"] != created["contactId"]


def test_an_external_id_stays_with_its_member(platform):
    platform.sync("ext-1", memberId="m1", firstName="Zoe")
    response = platform.sync("ext-1", memberId="m2", firstName="Zoe")
    assert response.status_code == 409 and problem_type(response) == "external-id-of-another-member"


@pytest.mark.parametrize(("body", "field"), [
    ({"firstName": "Zoe"}, "body"),
    ({"memberId": "m1", "ssoSubject": "x", "firstName": "Zoe"}, "body"),
    ({"memberId": "m1", "email": "not-an-email"}, "email"),
    ({"memberId": "m1", "notes": "private"}, "notes"),
    ({"memberId": "m1", "favouriteColour": "red"}, "favouriteColour"),
    ({"memberId": "m1", "optIn": True}, "body"),
])
def test_bad_payloads_are_refused_naming_the_field(platform, body, field):
    response = platform.sync("ext-1", **body)
    assert response.status_code == 422, response.text
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()
    assert platform.contacts_of("m1") == []


def test_unsigned_or_other_brand_calls_are_refused(platform):
    path = f"/api/v1/integrations/{DIRECT}/contacts/ext-1"
    body = {"memberId": "m1", "firstName": "Zoe"}
    unsigned = platform.client.put(path, json=body)
    assert unsigned.status_code == 401 and problem_type(unsigned) == "integration-signature-missing"
    other = platform.call("PUT", path, body=body, key=platform.keys[CLASSIC])
    assert other.status_code == 401 and problem_type(other) == "integration-unknown-key"
    assert platform.call("DELETE", path, key=platform.keys[CLASSIC]).status_code == 401
    assert platform.contacts_of("m1") == []


def test_one_person_synced_under_many_records_at_once_is_one_contact(platform, monkeypatch):
    overlap_reads(monkeypatch, "query", "contacts", 20)  # every call looks for the person before any creates
    platform.container.clock.advance(timedelta(seconds=1))
    now, key, names = platform.container.clock.now(), platform.keys[DIRECT], iter(range(20))

    def sync():
        # Same instant, another record each (each path signs differently: signatures are single-use).
        path = f"/api/v1/integrations/{DIRECT}/contacts/ext-{next(names)}"
        return signed_call(platform.client, "PUT", path, key=key, now=now,
                           body={"memberId": "m1", "firstName": "Zoe", "email": "zoe@example.com"})

    answers = in_parallel(20, sync)
    assert sorted(answer.status_code for answer in answers) == [200] * 19 + [201], [a.text for a in answers]
    assert len({answer.json()["contactId"] for answer in answers}) == 1
    assert len(platform.contacts_of("m1")) == 1

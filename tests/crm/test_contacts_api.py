"""Contacts through the App and Manager APIs: ownership, visibility, blacklist, v4 deprecation of manual entry."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandUpdate
from shared.crm import blacklist, contact_journal, service
from shared.crm.consent import BrandOptIn, MemberOptIn
from shared.crm.models import ContactSource
from shared.crm.sources import SourceInput
from shared.crm.views import ContactCreate
from shared.identity import repository
from shared.identity.models import Role
from tests.builders import add_brand, running_app
from tests.identity.test_profile_api import add_member, app_headers
from tests.races import in_parallel, overlap_reads

BRAND, PLAIN = "acme", "plain"
CONTACTS = f"/api/v1/app/{BRAND}/contacts"
MANAGER = f"/api/v1/manager/brands/{BRAND}/contacts"


@pytest.fixture
def crm_client(container):
    add_brand(container, BRAND, "Acme", pro=2, manualContactEntry=True)
    add_brand(container, PLAIN, "Plain")
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def members(container, crm_client):
    return {member_id: app_headers(container, add_member(container, member_id=member_id))
            for member_id in ("m1", "m2")}


def _stored(container, source, member_id="m1", brand_id=BRAND, **params):
    brand = brands.get(store=container.store, brand_id=brand_id)
    store = container.store.for_brand(brand_id)
    if store.find(repository.MEMBERS, member_id) is None:
        add_member(container, brand_id=brand_id, member_id=member_id)
    member, _ = repository.get_member(store=store, member_id=member_id)
    return service.create(store=container.store.for_brand(brand_id), brand=brand, member=member,
                          data=ContactCreate(first_name="Zoe", email=f"zoe.{source.value}@example.com"),
                          source=source, hasher=container.hasher(brand_id), now=container.clock.now(),
                          params=SourceInput(**params))


def test_a_member_creates_reads_edits_and_deletes_their_own_contact(crm_client, container, members):
    created = crm_client.post(CONTACTS, headers=members["m1"], json={
        "firstName": "Zoe", "email": " Zoe@Example.com ", "address": {"city": "Lyon", "postalCode": "69001",
                                                                      "country": "FR"},
        "tags": ["vip", "vip", "lyon"], "contactType": "hostess", "notes": "met at the fair"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "zoe@example.com" and body["tags"] == ["lyon", "vip"]
    assert body["memberOptIn"]["value"] == "new" and body["memberOptIn"]["meaning"] == "no_known_status"
    assert body["brandOptIn"]["value"] == "no_opt_in" and body["createdBy"] == "manual"
    contact_id = body["id"]
    stored = container.store.for_brand(BRAND).get("contacts", contact_id)
    assert stored["emailHash"] == container.hasher(BRAND)("email", "zoe@example.com")
    assert stored["retention"]["rule"] == "contact_never_invited"  # the declared lifecycle rule

    assert crm_client.get(CONTACTS, headers=members["m1"]).json()["items"][0]["id"] == contact_id
    edited = crm_client.patch(f"{CONTACTS}/{contact_id}", headers=members["m1"], json={"lastName": "Roy"})
    assert edited.status_code == 200 and edited.json()["lastName"] == "Roy" and edited.json()["firstName"] == "Zoe"
    assert crm_client.delete(f"{CONTACTS}/{contact_id}", headers=members["m1"]).status_code == 204
    assert crm_client.get(f"{CONTACTS}/{contact_id}", headers=members["m1"]).status_code == 404
    erased = container.store.for_brand(BRAND).get("contacts", contact_id)
    # Deleted the guide's way: the hash, city and postal code stay; names, email and notes go.
    assert erased["emailHash"] and erased["email"] is None and erased["firstName"] is None and erased["notes"] is None
    assert erased["address"] == {"city": "Lyon", "postalCode": "69001", "country": None}


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_members_contact_answers_404(crm_client, container, members, method):
    contact_id = crm_client.post(CONTACTS, headers=members["m1"], json={"firstName": "Zoe"}).json()["id"]
    kwargs = {"json": {"notes": "mine now"}} if method == "patch" else {}
    response = getattr(crm_client, method)(f"{CONTACTS}/{contact_id}", headers=members["m2"], **kwargs)
    assert response.status_code == 404
    assert crm_client.get(CONTACTS, headers=members["m2"]).json()["items"] == []
    assert container.store.for_brand(BRAND).get("contacts", contact_id)["notes"] is None


def test_manual_entry_is_refused_with_a_clear_problem_type_unless_the_brand_enabled_it(crm_client, container):
    headers = app_headers(container, add_member(container, brand_id=PLAIN, member_id="p1"), brand_id=PLAIN)
    response = crm_client.post(f"/api/v1/app/{PLAIN}/contacts", headers=headers, json={"firstName": "Zoe"})
    assert response.status_code == 403
    assert response.json()["type"].endswith("/manual-contact-entry-disabled")
    assert container.store.for_brand(PLAIN).query_all("contacts") == []


@pytest.mark.parametrize(("body", "field"), [
    ({}, "body"),
    ({"email": "not-an-email"}, "email"),
    ({"address": {"street": "1 rue X"}}, "address.street"),
    ({"firstName": "Zoe", "memberOptIn": "invitation_accepted"}, "memberOptIn"),
])
def test_bad_contact_input_is_422_naming_the_field_and_writes_nothing(crm_client, container, members, body, field):
    response = crm_client.post(CONTACTS, headers=members["m1"], json=body)
    assert response.status_code == 422
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert container.store.for_brand(BRAND).query_all("contacts") == []


def test_contact_types_are_refused_outside_the_direct_selling_scenario(crm_client, container):
    brands.update(store=container.store, clock=container.clock, brand_id=PLAIN,
                  changes=BrandUpdate.model_validate({"manualContactEntry": True}))
    headers = app_headers(container, add_member(container, brand_id=PLAIN, member_id="p1"), brand_id=PLAIN)
    response = crm_client.post(f"/api/v1/app/{PLAIN}/contacts", headers=headers,
                               json={"firstName": "Zoe", "contactType": "hostess"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "contactType"


def test_a_blacklisted_address_cannot_be_created_by_any_member_of_the_brand(crm_client, container, members):
    created = crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"}).json()
    # Zoe opts out of all the brand's members from one of m1's emails.
    contact_journal.global_opt_out(store=container.store.for_brand(BRAND), journal=container.journal(BRAND),
                                   events=container.events,
                           brand=brands.get(store=container.store, brand_id=BRAND), contact_id=created["id"],
                           now=container.clock.now())
    for headers in members.values():
        again = crm_client.post(CONTACTS, headers=headers, json={"email": "ZOE@example.com", "firstName": "Z"})
        assert again.status_code == 409 and again.json()["type"].endswith("/contact-blacklisted")
    # Nor can it come back through an edit, or through another source (sync, order).
    other = crm_client.post(CONTACTS, headers=members["m2"], json={"firstName": "Someone"}).json()
    edit = crm_client.patch(f"{CONTACTS}/{other['id']}", headers=members["m2"], json={"email": "zoe@example.com"})
    assert edit.status_code == 409
    for source in (ContactSource.ORDER, ContactSource.BRAND_SYNC):
        with pytest.raises(service.ContactBlacklisted):
            service.create(store=container.store.for_brand(BRAND), brand=brands.get(store=container.store,
                           brand_id=BRAND), member=add_member(container, member_id=f"m-{source.value}"),
                           data=ContactCreate(email="zoe@example.com"), source=source,
                           hasher=container.hasher(BRAND), now=container.clock.now())
    stored = [doc for doc in container.store.for_brand(BRAND).query_all("contacts") if doc["status"] == "active"]
    assert len(stored) == 2
    # The black list holds the keyed hash only.
    doc = container.store.for_brand(BRAND).query_all(blacklist.BLACKLIST)[0]
    assert "zoe" not in str(doc) and doc["reasons"] == ["global_opt_out"]


@pytest.mark.parametrize("reason", list(blacklist.BlacklistReason))
def test_a_provider_outcome_blocks_creation_and_sending(crm_client, container, members, reason):
    hashed = container.hasher(BRAND)("email", "zoe@example.com")
    contact = _stored(container, ContactSource.ORDER)
    assert not service.may_send(store=container.store.for_brand(BRAND), contact=contact,
                                purpose="member_publication")  # storage only
    blacklist.add(store=container.store.for_brand(BRAND), email_hash=container.hasher(BRAND)("email", contact.email),
                  reason=reason,
                  now=container.clock.now(), journal=container.journal(BRAND))
    assert not service.may_send(store=container.store.for_brand(BRAND), contact=contact, purpose="invitation")
    blacklist.add(store=container.store.for_brand(BRAND), email_hash=hashed, reason=reason, now=container.clock.now(),
                  journal=container.journal(BRAND))
    response = crm_client.post(CONTACTS, headers=members["m2"], json={"email": "zoe@example.com"})
    assert response.status_code == 409


def test_a_member_never_sees_the_email_of_an_opted_out_contact(crm_client, container, members):
    created = crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"}).json()
    contact_journal.global_opt_out(store=container.store.for_brand(BRAND), journal=container.journal(BRAND),
                                   events=container.events,
                           brand=brands.get(store=container.store, brand_id=BRAND), contact_id=created["id"],
                           now=container.clock.now())
    read = crm_client.get(f"{CONTACTS}/{created['id']}", headers=members["m1"]).json()
    assert read["email"] is None and read["emailHidden"] is True
    assert read["memberOptIn"]["meaning"] == "opted_out"
    assert crm_client.get(CONTACTS, headers=members["m1"]).json()["items"][0]["email"] is None


def test_contacts_pending_email_confirmation_are_shown_to_nobody(crm_client, container, members, manager_token):
    pending = _stored(container, ContactSource.BLOG_POPIN, member_opt_in_asked=True, brand_opt_in_asked=True)
    assert pending.member_opt_in == MemberOptIn.OPT_IN_BLOG_PENDING
    assert crm_client.get(CONTACTS, headers=members["m1"]).json()["items"] == []
    assert crm_client.get(f"{CONTACTS}/{pending.id}", headers=members["m1"]).status_code == 404
    viewer = manager_token("viewer", BRAND)
    assert crm_client.get(MANAGER, headers=viewer).json()["items"] == []
    assert crm_client.get(f"{MANAGER}/{pending.id}", headers=viewer).status_code == 404


def test_the_brand_sees_only_contacts_with_a_brand_opt_in(crm_client, container, members, manager_token):
    with_opt_in = _stored(container, ContactSource.EXTERNAL_FORM, brand_opt_in_asked=True)
    storage = _stored(container, ContactSource.ORDER)
    hidden = crm_client.post(CONTACTS, headers=members["m1"], json={"email": "hidden@example.com"}).json()
    assert with_opt_in.brand_opt_in == BrandOptIn.EXTERNAL_FORM and storage.brand_opt_in == BrandOptIn.STORAGE_ONLY
    viewer = manager_token("viewer", BRAND)
    listed = crm_client.get(MANAGER, headers=viewer)
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == {with_opt_in.id, storage.id}
    assert "notes" not in listed.json()["items"][0]
    assert crm_client.get(f"{MANAGER}/{with_opt_in.id}", headers=viewer).json()["email"] == with_opt_in.email
    # A contact without brand opt-in cannot be read by the brand: it does not exist for it.
    assert crm_client.get(f"{MANAGER}/{hidden['id']}", headers=viewer).status_code == 404
    # Another brand's Manager user sees nothing of it either.
    assert crm_client.get(MANAGER, headers=manager_token("admin", PLAIN)).status_code == 404


def test_the_brand_list_pages_are_full_of_contacts_it_may_see(crm_client, container, members, manager_token):
    # Three contacts hidden from the brand (no brand opt-in) among five: a list that filtered after
    # reading would answer empty pages of one most of the time.
    for n in range(3):
        assert crm_client.post(CONTACTS, headers=members["m1"], json={"email": f"h{n}@example.com"}).status_code == 201
    shown = {_stored(container, ContactSource.EXTERNAL_FORM, member_id=member, brand_opt_in_asked=True).id
             for member in ("m1", "m2")}
    viewer = manager_token("viewer", BRAND)

    first = crm_client.get(MANAGER, headers=viewer, params={"pageSize": 1}).json()
    second = crm_client.get(MANAGER, headers=viewer, params={"pageSize": 1, "continuation": first["continuation"]})
    assert len(first["items"]) == 1 and len(second.json()["items"]) == 1
    assert {first["items"][0]["id"], second.json()["items"][0]["id"]} == shown


def test_the_same_person_entered_by_two_members_is_two_contacts(crm_client, container, members):
    for headers in members.values():
        assert crm_client.post(CONTACTS, headers=headers, json={"email": "zoe@example.com"}).status_code == 201
    assert crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"}).status_code == 409
    docs = container.store.for_brand(BRAND).query_all("contacts")
    assert sorted(doc["memberId"] for doc in docs) == ["m1", "m2"]


def test_brand_sync_is_refused_for_an_ambassador_outside_direct_selling(container, crm_client):
    add_member(container, brand_id=PLAIN, member_id="p1", role=Role.AMBASSADOR)
    with pytest.raises(Exception) as refused:
        _stored(container, ContactSource.BRAND_SYNC, member_id="p1", brand_id=PLAIN, imported_opt_in=True)
    assert refused.value.code == "brand-sync-not-allowed"
    member = add_member(container, brand_id=PLAIN, member_id="emp", role=Role.EMPLOYEE)
    contact = service.create(store=container.store.for_brand(PLAIN), brand=brands.get(store=container.store,
                             brand_id=PLAIN), member=member, data=ContactCreate(first_name="Zoe"),
                             source=ContactSource.BRAND_SYNC, hasher=container.hasher(PLAIN),
                             now=container.clock.now(), params=SourceInput(imported_opt_in=True))
    assert contact.member_opt_in == MemberOptIn.OPT_IN_BRAND_IMPORTED



def test_twenty_identical_creations_at_once_store_one_contact(crm_client, container, members, monkeypatch):
    # Every call checks for a twin before any of them writes: the widest window a race can have.
    overlap_reads(monkeypatch, "query", "contacts", 20)
    answers = in_parallel(20, lambda: crm_client.post(CONTACTS, headers=members["m1"],
                                                       json={"firstName": "Zoe", "email": "zoe@example.com"}))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * 19
    assert {answer.json()["type"].rsplit("/", 1)[-1] for answer in answers if answer.status_code == 409} == {
        "conflict"}
    assert len(container.store.for_brand(BRAND).query_all("contacts")) == 1


def test_an_address_freed_by_an_edit_can_be_entered_again(crm_client, container, members):
    first = crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"}).json()
    moved = crm_client.patch(f"{CONTACTS}/{first['id']}", headers=members["m1"], json={"email": "zoe@work.example"})
    assert moved.status_code == 200
    again = crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"})
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    assert crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@work.example"}).status_code == 409
    assert crm_client.post(CONTACTS, headers=members["m1"], json={"email": "zoe@example.com"}).status_code == 409
    assert len(container.store.for_brand(BRAND).query_all("contacts")) == 2

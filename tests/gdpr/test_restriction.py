"""GDPR article 18 through the API: a restricted member, visitor or contact is kept but not processed until lifted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.crm import campaigns
from shared.gdpr.retention import nightly
from shared.identity import repository
from shared.identity.models import Member, Role
from tests.gdpr import contact_world as _world
from tests.gdpr.contact_world import (
    BRAND,
    PERSONAL,
    RIGHTS,
    ZOE,
    ask,
    contact,
    deliver,
    mails,
    member,
    session,
    stored,
)
from tests.identity import test_auth_support as _auth
from tests.identity.test_auth_support import signup_body
from tests.tracking.test_dashboards import write

brand = _world.brand  # the shared fixtures
fast_bcrypt = _auth.fast_bcrypt
DAY = timedelta(days=1)
ANA = "ana.lima@example.com"
APP = f"/api/v1/app/{BRAND}"
MANAGER = f"/api/v1/manager/brands/{BRAND}"
DASHBOARD = f"{MANAGER}/tracking/dashboard"
RANGE = {"from": "2029-12-01", "to": "2030-01-01"}


@pytest.fixture
def ana(brand):
    """Member m3, signed up long ago with a verified address (her key claimed, as signup does)."""
    store, now = brand.store.for_brand(BRAND), brand.clock.now()
    hashed = brand.hasher(BRAND)("email", ANA)
    repository.save(store=store, container=repository.MEMBERS, model=Member(
        id="m3", role=Role.AMBASSADOR, status="active", created_at=now, first_name="Ana", last_name="Lima", email=ANA,
        email_hash=hashed, email_verified_at=now, last_activity_at=now), etag=None)
    assert repository.claim_key(store=store, kind="email", hashed=hashed, owner_id="m3", owner_type="member")
    return "m3"


def gdpr(client, headers, **body):
    response = client.post(f"{APP}/gdpr/requests", headers=headers, json=body)
    assert response.status_code == 201 and response.json()["state"] == "done", response.text
    return response.json()


def run(container, family):
    report = nightly.run(container=container, family=family)
    assert report["failedBrands"] == []
    return report["brands"].get(BRAND, {})


def member_ids(client, headers) -> list[str]:
    answer = client.get(f"{MANAGER}/members", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def ranked(client, headers) -> list[str]:
    answer = client.get(f"{DASHBOARD}/members", headers=headers, params=RANGE)
    assert answer.status_code == 200, answer.text
    return [item["memberId"] for item in answer.json()["items"]]


def test_a_restricted_member_gets_no_email_and_leaves_the_brands_lists_and_personal_views_until_lifted(
        client, brand, ana, manager_token, fast_bcrypt):
    write(brand, ana, "2029-12-31", "email", "product", clicks=5)
    write(brand, "m1", "2029-12-31", "email", "product", clicks=2)
    headers, viewer, editor = member(brand, ana), manager_token("viewer", BRAND), manager_token("editor", BRAND)

    request = gdpr(client, headers, kind="restriction", reason="My address is wrong, check it first")
    doc = brand.store.for_brand(BRAND).get("members", ana)
    assert doc["restriction"] == {"since": "2030-01-01T09:00:00Z", "requestId": request["id"]}
    assert doc["directory"]["listed"] is False
    assert ana not in member_ids(client, viewer)
    assert client.get(f"{MANAGER}/members/{ana}", headers=viewer).status_code == 404
    assert client.patch(f"{MANAGER}/members/{ana}", headers=editor, json={"position": "Boss"}).status_code == 404
    assert ranked(client, viewer) == ["m1"]
    assert client.get(f"{DASHBOARD}/members/{ana}", headers=viewer, params=RANGE).status_code == 404
    # The brand's aggregates keep counting her: anonymous totals, no personal view.
    assert client.get(DASHBOARD, headers=viewer, params=RANGE).json()["totals"]["clicks"] == 7

    # Someone signs up with her address: the notice she would get is not sent while restricted.
    assert client.post(f"{APP}/auth/signup", json=signup_body(email=ANA)).status_code == 202
    assert mails(brand, "signup_attempt") == []
    [record] = [r for r in brand.store.for_brand(BRAND).query_all("emails") if r["template"] == "signup_attempt"]
    assert record["status"] == "suppressed"
    # Her own request's emails still go.
    gdpr(client, headers, kind="access")
    assert [mail["toEmail"] for mail in mails(brand, "gdpr_export_ready")] == [ANA]

    gdpr(client, headers, kind="restriction_lift")
    assert brand.store.for_brand(BRAND).get("members", ana).get("restriction") is None
    assert ana in member_ids(client, viewer)
    assert client.get(f"{MANAGER}/members/{ana}", headers=viewer).status_code == 200
    assert ranked(client, viewer) == [ana, "m1"]
    brand.clock.advance(timedelta(minutes=1))
    assert client.post(f"{APP}/auth/signup", json=signup_body(email=ANA)).status_code == 202
    assert [mail["toEmail"] for mail in mails(brand, "signup_attempt")] == [ANA]


def test_retention_waits_while_a_member_is_restricted_and_warns_before_erasing_once_lifted(client, brand, ana):
    gdpr(client, member(brand, ana), kind="restriction")
    brand.clock.advance(timedelta(days=1100))  # past the three years without activity
    report = run(brand, "members")
    assert report["member_inactive"]["held"] == 1 and report["member_inactive"]["warned"] == 0
    assert stored_member(brand, ana)["status"] == "active" and mails(brand, "retention_warning") == []

    gdpr(client, member(brand, ana), kind="restriction_lift")
    lifted_on = brand.clock.now()
    warned, erased_on = [], None
    for _ in range(40):
        run(brand, "members")
        warned += [brand.clock.now() for _ in mails(brand, "retention_warning")[len(warned):]]
        if stored_member(brand, ana)["status"] == "erased":
            erased_on = brand.clock.now()
            break
        brand.clock.advance(DAY)
    assert [(at - lifted_on).days for at in warned] == [0, 15]
    assert erased_on is not None and (erased_on - lifted_on).days == 30


def stored_member(container, member_id):
    return container.store.for_brand(BRAND).get("members", member_id)


def test_a_manager_admin_lifting_a_restriction_tells_the_member_first(client, brand, ana, manager_token):
    gdpr(client, member(brand, ana), kind="restriction")
    admin = manager_token("admin", BRAND)
    recorded = client.post(f"{MANAGER}/gdpr/requests", headers=admin,
                           json={"memberId": ana, "kind": "restriction_lift"}).json()
    client.post(f"{MANAGER}/gdpr/requests/{recorded['id']}/verify-identity", headers=admin)
    done = client.post(f"{MANAGER}/gdpr/requests/{recorded['id']}/process", headers=admin)
    assert done.status_code == 200 and done.json()["state"] == "done", done.text
    [notice] = mails(brand, "gdpr_restriction_lifted")
    assert notice["toEmail"] == ANA and "1 January 2030" in notice["text"]
    assert stored_member(brand, ana).get("restriction") is None
    lines = client.get(f"{MANAGER}/gdpr/register", headers=admin, params={"memberId": ana}).json()["items"]
    assert sorted(line["action"] for line in lines if line["action"].startswith("restriction")) == [
        "restriction_applied", "restriction_lifted"]
    assert "Ana" not in json.dumps(lines) and ANA not in json.dumps(lines)


def test_a_restricted_visitor_is_kept_from_retention_until_lifted(client, brand, manager_token):
    opened = client.post(f"/api/v1/widget/{BRAND}/visitors", json={
        "acceptWidgetPolicy": True, "widgetPolicyVersion": "wp-1"}).json()
    visitor_id, headers = opened["visitor"]["id"], {"Authorization": f"Bearer {opened['accessToken']}"}
    answer = client.post(f"/api/v1/widget/{BRAND}/gdpr/requests", headers=headers, json={"kind": "restriction"})
    assert answer.status_code == 201 and answer.json()["state"] == "done", answer.text
    visitors = brand.store.for_brand(BRAND)
    assert visitors.get("visitors", visitor_id)["restriction"]["requestId"] == answer.json()["id"]

    brand.clock.advance(timedelta(days=1100))
    assert run(brand, "external_users")["external_user_inactive"]["held"] == 1
    assert visitors.get("visitors", visitor_id)["status"] == "active"
    # Lifted by an admin (the visitor's own request would be an interaction, starting the three years again).
    admin = manager_token("admin", BRAND)
    lift = client.post(f"{MANAGER}/gdpr/requests", headers=admin,
                       json={"visitorId": visitor_id, "kind": "restriction_lift"}).json()
    client.post(f"{MANAGER}/gdpr/requests/{lift['id']}/verify-identity", headers=admin)
    assert client.post(f"{MANAGER}/gdpr/requests/{lift['id']}/process", headers=admin).status_code == 200
    assert mails(brand, "gdpr_restriction_lifted") == []  # a visitor is never emailed: the widget shows it
    run(brand, "external_users")
    assert visitors.get("visitors", visitor_id)["status"] == "erased"


def campaign(client, container, campaign_id):
    answer = client.post(f"{APP}/campaigns", headers=member(container), json={
        "id": campaign_id, "title": "Spring", "text": "New pieces", "link": f"https://shop.{BRAND}.example/spring",
        "tags": ["vip"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def brand_contact_ids(client, headers) -> list[str]:
    answer = client.get(f"{MANAGER}/contacts", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_restricted_contact_gets_no_campaign_or_invitation_and_leaves_the_brands_list_until_lifted(
        client, brand, manager_token):
    opted_in, other_members = contact(brand), contact(brand, member_id="m2")
    new = contact(brand, "zoe.new@example.com", opted_in=False)
    viewer = manager_token("viewer", BRAND)
    rights = session(client, brand)
    assert ask(client, rights, kind="restriction").status_code == 201
    assert client.get(f"{RIGHTS}/session", headers=rights).json() == {
        "restricted": True, "restrictedSince": "2030-01-01T09:00:00Z"}
    assert brand.store.for_brand(BRAND).get("restrictions", opted_in.email_hash)["since"] == "2030-01-01T09:00:00Z"

    assert campaign(client, brand, "c1") == {"id": "c1", "selected": 2, "sent": 0,
                                              "skipped": {"not_opted_in": 1, "restricted": 1}}
    assert mails(brand, campaigns.TEMPLATE) == []
    assert brand_contact_ids(client, viewer) == []
    for contact_id in (opted_in.id, other_members.id):  # every member's record of the address
        assert client.get(f"{MANAGER}/contacts/{contact_id}", headers=viewer).status_code == 404
    # The member keeps the record, unchanged: no edit while restricted.
    edit = client.patch(f"{APP}/contacts/{opted_in.id}", headers=member(brand), json={"notes": "called her"})
    assert edit.status_code == 409 and edit.json()["type"].endswith("contact-restricted")

    # The same person under another address is someone else for the page: the new contact is invited as usual.
    assert client.post(f"{APP}/contacts/{new.id}/invitation", headers=member(brand)).status_code == 200

    assert ask(client, rights, kind="restriction_lift").status_code == 201  # the same session, still open
    assert campaign(client, brand, "c2")["sent"] == 1
    assert [mail["toEmail"] for mail in mails(brand, campaigns.TEMPLATE)] == [ZOE]
    assert sorted(brand_contact_ids(client, viewer)) == sorted([opted_in.id, other_members.id])


def test_an_invitation_is_refused_and_a_queued_email_is_not_sent_once_the_contact_restricted(client, brand):
    new = contact(brand, opted_in=False)
    contact(brand, member_id="m2")
    rights = session(client, brand)
    answer = client.post(f"{APP}/campaigns", headers=member(brand, "m2"), json={
        "id": "c2", "title": "Spring", "text": "New pieces", "link": f"https://shop.{BRAND}.example/spring",
        "tags": ["vip"]})
    assert answer.json()["sent"] == 1  # queued, not yet sent
    assert ask(client, rights, kind="restriction").status_code == 201
    deliver(brand)
    assert mails(brand, campaigns.TEMPLATE) == []  # checked when it leaves, not only when it was queued
    refused = client.post(f"{APP}/contacts/{new.id}/invitation", headers=member(brand))
    assert refused.status_code == 409 and refused.json()["type"].endswith("invitation-not-allowed")


def test_contact_retention_waits_while_restricted_and_resumes_once_lifted(client, brand):
    never_invited = contact(brand, opted_in=False)  # erased after 30 days
    invited = contact(brand, member_id="m2", opted_in=False)  # invited: reminded after 15 days
    assert client.post(f"{APP}/contacts/{invited.id}/invitation", headers=member(brand, "m2")).status_code == 200
    assert len(mails(brand, "contact_invitation")) == 1
    assert ask(client, session(client, brand), kind="restriction").status_code == 201

    brand.clock.advance(timedelta(days=16))
    held = run(brand, "contacts")
    assert held["contact_invitation_pending"]["held"] == 1 and len(mails(brand, "contact_invitation")) == 1
    brand.clock.advance(timedelta(days=15))
    assert run(brand, "contacts")["contact_never_invited"]["held"] == 1
    assert stored(brand, never_invited.id)["status"] == "active"

    assert ask(client, session(client, brand), kind="restriction_lift").status_code == 201
    run(brand, "contacts")
    assert stored(brand, never_invited.id)["status"] == "erased"
    assert len(mails(brand, "contact_invitation")) == 2  # the reminder, once free to go


def test_restriction_lines_in_the_register_name_no_one(client, brand, ana, manager_token):
    contact(brand)
    rights = session(client, brand)
    ask(client, rights, kind="restriction", reason="Zoe Martin contests her city")
    ask(client, rights, kind="restriction_lift")
    gdpr(client, member(brand, ana), kind="restriction", reason="Ana Lima, please wait")
    lines = client.get(f"{MANAGER}/gdpr/register", headers=manager_token("admin", BRAND)).json()["items"]
    actions = [line["action"] for line in lines]
    assert actions.count("restriction_applied") == 2 and actions.count("restriction_lifted") == 1
    assert {line["reason"] for line in lines if line["action"].startswith("restriction")} == {"gdpr_art18"}
    text = json.dumps(lines)
    for clue in (*PERSONAL, ANA, "Ana", "Lima", "m3", ZOE):
        assert clue not in text

"""Requests a Manager admin handles on a person's behalf: received, identity verified, processed or refused."""

from __future__ import annotations

import pytest

from shared.identity import repository
from tests.builders import queued_emails
from tests.gdpr import test_rights_api as _api
from tests.gdpr.test_rights_api import (
    ANA,
    BOB,
    BRAND,
    GDPR,
    OTHER,
    ask,
    member_headers,
    relative,
)

gdpr_client = _api.gdpr_client  # the shared fixture
world = _api.world  # the shared fixture

REQUESTS = f"/api/v1/manager/brands/{BRAND}/gdpr/requests"


@pytest.fixture
def admin(manager_token):
    return manager_token("admin", BRAND)


def record(client, admin, **body):
    return client.post(REQUESTS, headers=admin, json=body)


def test_an_admin_records_verifies_and_processes_an_export_for_a_member(gdpr_client, world, admin):
    created = record(gdpr_client, admin, memberId=ANA["id"], kind="access", reason="asked by letter")
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["state"], request["channel"], request["subjectId"]) == ("received", "manager", ANA["id"])

    too_soon = gdpr_client.post(f"{REQUESTS}/{request['id']}/process", headers=admin)
    assert too_soon.status_code == 409  # identity first
    verified = gdpr_client.post(f"{REQUESTS}/{request['id']}/verify-identity", headers=admin)
    assert verified.json()["state"] == "identity_verified"
    done = gdpr_client.post(f"{REQUESTS}/{request['id']}/process", headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    export = gdpr_client.get(relative(done.json()["downloadUrl"])).json()
    assert export["member"]["email"] == ANA["email"]
    [email] = queued_emails(world)
    assert email["template"] == "gdpr_export_ready" and email["toEmail"] == ANA["email"]
    assert gdpr_client.post(f"{REQUESTS}/{request['id']}/process", headers=admin).status_code == 409  # once

    # The member sees the request made on their behalf among their own.
    mine = gdpr_client.get(f"{GDPR}/requests", headers=member_headers(world, ANA)).json()["items"]
    assert [item["id"] for item in mine] == [request["id"]]
    listed = gdpr_client.get(REQUESTS, headers=admin, params={"state": "done"}).json()["items"]
    assert [item["id"] for item in listed] == [request["id"]]
    assert gdpr_client.get(REQUESTS, headers=admin, params={"state": "received"}).json()["items"] == []


def test_a_refusal_carries_its_reason_and_closes_the_request(gdpr_client, world, admin):
    request = record(gdpr_client, admin, memberId=ANA["id"], kind="erasure").json()
    bad = gdpr_client.post(f"{REQUESTS}/{request['id']}/refuse", headers=admin, json={"reason": "because"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    refused = gdpr_client.post(f"{REQUESTS}/{request['id']}/refuse", headers=admin, json={
        "reason": "legal_obligation", "detail": "Invoices must be kept 10 years"})
    assert refused.status_code == 200, refused.text
    assert refused.json()["state"] == "refused"
    assert refused.json()["refusal"] == {"code": "legal_obligation", "detail": "Invoices must be kept 10 years"}
    seen = gdpr_client.get(f"{GDPR}/requests/{request['id']}", headers=member_headers(world, ANA)).json()
    assert seen["refusal"]["code"] == "legal_obligation"
    for action in ("process", "verify-identity"):
        assert gdpr_client.post(f"{REQUESTS}/{request['id']}/{action}", headers=admin).status_code == 409
    assert repository.get_member(store=world.store.for_brand(BRAND), member_id=ANA["id"])[0].status == "active"
    [entry] = [doc for doc in world.store.for_brand(BRAND).query_all("gdpr_register")
               if doc["action"] == "request_refused"]
    assert entry["reason"] == "legal_obligation" and entry["actor"] == f"manager:mu-admin-{BRAND}"


def test_an_admin_erases_a_member_on_their_behalf(gdpr_client, world, admin):
    request = record(gdpr_client, admin, memberId=BOB["id"], kind="erasure").json()
    gdpr_client.post(f"{REQUESTS}/{request['id']}/verify-identity", headers=admin)
    done = gdpr_client.post(f"{REQUESTS}/{request['id']}/process", headers=admin)
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert world.store.for_brand(BRAND).get(repository.MEMBERS, BOB["id"])["status"] == "erased"
    assert repository.get_member(store=world.store.for_brand(BRAND), member_id=ANA["id"])[0].status == "active"


def test_an_admin_completes_a_rectification_the_member_cannot_make(gdpr_client, world, admin):
    waiting = ask(gdpr_client, member_headers(world, ANA), kind="rectification", fields=["email"]).json()
    done = gdpr_client.post(f"{REQUESTS}/{waiting['id']}/process", headers=admin)
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert [step["by"] for step in done.json()["history"]][-2:] == [f"manager:mu-admin-{BRAND}"] * 2
    reasons = [doc["reason"] for doc in world.store.for_brand(BRAND).query_all("gdpr_register")
               if doc["action"] == "rectified"]
    assert reasons == ["fields:email"]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "access"}, "memberId"),
    ({"kind": "access", "memberId": "member-ana", "visitorId": "v1"}, "memberId"),
    ({"memberId": "member-ana"}, "kind"),
])
def test_a_request_names_exactly_one_person(gdpr_client, world, admin, body, field):
    response = record(gdpr_client, admin, **body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert world.store.for_brand(BRAND).query_all("gdpr_requests") == []


def test_another_brand_and_lower_levels_see_nothing(gdpr_client, world, admin, manager_token):
    request = record(gdpr_client, admin, memberId=ANA["id"], kind="access").json()
    assert record(gdpr_client, admin, memberId="nobody", kind="access").status_code == 404
    foreign = manager_token("admin", OTHER)
    assert gdpr_client.get(f"{REQUESTS}/{request['id']}", headers=foreign).status_code == 404
    other_brand = f"/api/v1/manager/brands/{OTHER}/gdpr/requests/{request['id']}"
    assert gdpr_client.get(other_brand, headers=foreign).status_code == 404
    assert gdpr_client.post(f"{other_brand}/process", headers=foreign).status_code == 404
    assert gdpr_client.get(REQUESTS, headers=manager_token("editor", BRAND)).status_code == 403
    assert gdpr_client.get(f"{REQUESTS}/{request['id']}", headers=manager_token("operator")).status_code == 200

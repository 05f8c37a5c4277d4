"""A member's GDPR rights through the App API: a 48-hour export link, erasure on a confirmed link, own data only."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from shared.gdpr import register
from shared.identity import activity, repository, sessions
from shared.identity.models import Member, Role, TermsAcceptance
from shared.ports.blobs import CONTAINER_EXPORTS, CONTAINER_UGC
from tests.builders import queued_emails, running_app
from tests.identity.test_profile_api import PNG, app_headers, make_brands

BRAND, OTHER = "acme", "globex"
GDPR = f"/api/v1/app/{BRAND}/gdpr"
ANA = {"id": "member-ana", "email": "ana.lima@example.com", "first_name": "Anabela", "last_name": "Limoeiro"}
BOB = {"id": "member-bob", "email": "bob.stone@example.com", "first_name": "Roberto", "last_name": "Stonecrop"}


@pytest.fixture
def gdpr_client(container):
    """The whole app."""
    with running_app(container) as test_client:
        yield test_client


def add_person(container, person: dict, brand_id=BRAND, role=Role.AMBASSADOR, **extra) -> Member:
    now = container.clock.now()
    member = Member(id=person["id"], role=role, status="active", created_at=now, email=person["email"],
                    email_hash=container.hasher(brand_id)("email", person["email"]), first_name=person["first_name"],
                    last_name=person["last_name"], popsell_terms=TermsAcceptance(version="t-4", accepted_at=now),
                    **extra)
    repository.save(store=container.store.for_brand(brand_id), container=repository.MEMBERS, model=member, etag=None)
    return member


@pytest.fixture
def world(gdpr_client, container, manager_token):
    make_brands(gdpr_client, manager_token, BRAND, OTHER)
    store = container.store.for_brand(BRAND)
    ana = add_person(container, ANA, address={"city": "Porto", "postalCode": "4000"})
    container.blobs.put(CONTAINER_UGC, f"{BRAND}/members/{ana.id}/photo-1", PNG, content_type="image/png")
    store.patch(repository.MEMBERS, ana.id, [_set("photoBlob", f"{BRAND}/members/{ana.id}/photo-1")])
    activity.record(store=store, subject=ana.id, kind="login", now=container.clock.now(), ip_hash="a" * 64,
                    user_agent_hash="b" * 64, method="password")
    sessions.issue_session(store=store, tokens=container.tokens, subject=ana.id, audience="app", brand_id=BRAND,
                           now=container.clock.now(), role=0)
    bob = add_person(container, BOB)
    activity.record(store=store, subject=bob.id, kind="login", now=container.clock.now(), ip_hash="c" * 64,
                    user_agent_hash="d" * 64, method="password")
    return container


def _set(path, value):
    from shared.ports.store import PatchOp

    return PatchOp("set", path, value)


def member_headers(container, person: dict, brand_id=BRAND) -> dict[str, str]:
    member, _ = repository.get_member(store=container.store.for_brand(brand_id), member_id=person["id"])
    return app_headers(container, member, brand_id=brand_id, ttl=timedelta(days=5))


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def ask(client, headers, **body):
    return client.post(f"{GDPR}/requests", headers=headers, json=body)


def test_an_export_holds_all_the_members_data_and_nothing_of_another_member(gdpr_client, world):
    response = ask(gdpr_client, member_headers(world, ANA), kind="access")
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["state"] == "done" and request["kind"] == "access"
    assert [step["state"] for step in request["history"]] == ["received", "identity_verified", "in_progress", "done"]
    assert request["exportExpiresAt"] == "2030-01-03T09:00:00Z"

    served = gdpr_client.get(relative(request["downloadUrl"]))
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/json")
    export = json.loads(served.content)
    assert export["subject"] == {"kind": "member", "id": ANA["id"]}
    member = export["member"]
    assert (member["email"], member["firstName"], member["lastName"]) == (ANA["email"], "Anabela", "Limoeiro")
    assert member["address"]["city"] == "Porto" and "passwordHash" not in member
    assert export["consents"]["popsellTerms"]["version"] == "t-4"
    assert export["consents"]["communication"]["newsletters"] is True
    assert [(entry["kind"], entry["ipHash"]) for entry in export["activity"]] == [("login", "a" * 64)]
    assert export["sessions"]["count"] == 1
    assert export["profilePhoto"]["contentType"] == "image/png"
    assert [item["kind"] for item in export["gdprRequests"]] == ["access"]
    for clue in (BOB["id"], BOB["email"], BOB["first_name"], BOB["last_name"], "c" * 64):
        assert clue not in served.text
    [blob] = world.blobs.list(CONTAINER_EXPORTS, prefix=f"{BRAND}/")
    assert blob.name == f"{BRAND}/{request['id']}.json"

    [email] = queued_emails(world)
    assert email["template"] == "gdpr_export_ready" and email["toEmail"] == ANA["email"]
    assert email["data"]["download_url"] == request["downloadUrl"]


def test_an_export_holds_the_members_share_links_and_commissions_and_none_of_another_member(gdpr_client, world):
    store = world.store.for_brand(BRAND)
    for person in (ANA, BOB):
        store.create("links", {"id": f"l-{person['id']}", "code": f"C{person['id'][-6:]}", "memberId": person["id"],
                               "source": "email", "status": "active", "createdAt": "2030-01-01T09:00:00Z"})
        store.create("commissions", {"id": f"o-{person['id']}:commission", "memberId": person["id"],
                                     "orderId": f"o-{person['id']}", "amountMinor": 1200, "currency": "EUR",
                                     "state": "pending", "createdAt": "2030-01-01T09:00:00Z"})

    request = ask(gdpr_client, member_headers(world, ANA), kind="access").json()
    served = gdpr_client.get(relative(request["downloadUrl"]))
    export = json.loads(served.content)

    assert [link["id"] for link in export["shareLinks"]] == [f"l-{ANA['id']}"]
    assert [(entry["orderId"], entry["amountMinor"]) for entry in export["commissions"]] == [(f"o-{ANA['id']}", 1200)]
    assert f"l-{BOB['id']}" not in served.text and f"o-{BOB['id']}" not in served.text


def test_a_portability_export_is_the_same_machine_readable_file(gdpr_client, world):
    request = ask(gdpr_client, member_headers(world, ANA), kind="portability").json()
    export = gdpr_client.get(relative(request["downloadUrl"])).json()
    assert export["format"] == "popsell.personal-data-export/1" and export["request"]["kind"] == "portability"


def test_the_download_link_works_for_48_hours_and_not_after(gdpr_client, world, clock):
    headers = member_headers(world, ANA)
    request = ask(gdpr_client, headers, kind="access").json()
    link = relative(request["downloadUrl"])

    clock.advance(timedelta(hours=47, minutes=59))
    assert gdpr_client.get(link).status_code == 200
    again = gdpr_client.get(f"{GDPR}/requests/{request['id']}", headers=headers).json()
    assert gdpr_client.get(relative(again["downloadUrl"])).status_code == 200

    clock.advance(timedelta(minutes=2))  # 48 h 01
    assert gdpr_client.get(link).status_code == 404
    late = gdpr_client.get(f"{GDPR}/requests/{request['id']}", headers=headers).json()
    assert late["downloadUrl"] is None and late["state"] == "done"


def test_another_member_cannot_read_a_members_request(gdpr_client, world):
    mine = ask(gdpr_client, member_headers(world, ANA), kind="access").json()
    bob = member_headers(world, BOB)
    assert gdpr_client.get(f"{GDPR}/requests/{mine['id']}", headers=bob).status_code == 404
    assert gdpr_client.get(f"{GDPR}/requests", headers=bob).json()["items"] == []
    listed = gdpr_client.get(f"{GDPR}/requests", headers=member_headers(world, ANA)).json()["items"]
    assert [item["id"] for item in listed] == [mine["id"]]
    # A token of another brand reaches nothing here either.
    stranger = add_person(world, {**BOB, "id": "member-gus"}, brand_id=OTHER)
    foreign = app_headers(world, stranger, brand_id=OTHER)
    assert gdpr_client.get(f"{GDPR}/requests/{mine['id']}", headers=foreign).status_code == 404


def confirm_token(email: dict) -> str:
    match = re.search(r"#token=([A-Za-z0-9_-]+)$", email["data"]["confirm_url"])
    assert match
    return match.group(1)


def test_an_erasure_needs_the_emailed_single_use_confirmation(gdpr_client, world):
    headers = member_headers(world, ANA)
    response = ask(gdpr_client, headers, kind="erasure", reason="I am leaving, Anabela")
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["state"] == "identity_verified" and request["awaitingConfirmation"] is True
    assert repository.get_member(store=world.store.for_brand(BRAND),
                                 member_id=ANA["id"])[0].status == "active"  # nothing yet
    [email] = queued_emails(world)
    assert email["template"] == "gdpr_erasure_confirmation" and email["toEmail"] == ANA["email"]

    forged = gdpr_client.post(f"{GDPR}/erasure/confirm", json={"token": "forged"})
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "token"
    token = confirm_token(email)
    assert gdpr_client.post(f"/api/v1/app/{OTHER}/gdpr/erasure/confirm", json={"token": token}).status_code == 422

    confirmed = gdpr_client.post(f"{GDPR}/erasure/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "done" and confirmed.json()["reason"] is None  # own words erased too
    erased = world.store.for_brand(BRAND).get(repository.MEMBERS, ANA["id"])
    assert erased["status"] == "erased" and erased["email"] is None and erased["firstName"] is None
    assert erased["emailHash"] == world.hasher(BRAND)("email", ANA["email"])
    assert world.blobs.list(CONTAINER_UGC, prefix=f"{BRAND}/members/{ANA['id']}/") == []
    assert gdpr_client.get(f"{GDPR}/requests", headers=headers).status_code == 401  # no access any more

    assert gdpr_client.post(f"{GDPR}/erasure/confirm", json={"token": token}).status_code == 410  # single use
    hashed = register.subject_hash(world.hasher(BRAND), "member", ANA["id"])
    actions = [doc["action"] for doc in world.store.for_brand(BRAND).query_all("gdpr_register")
               if doc["subjectHash"] == hashed]
    assert "erasure_done" in actions and "erasure_confirmation_requested" in actions


def test_rectification_of_own_fields_is_applied_and_recorded(gdpr_client, world):
    headers = member_headers(world, ANA)
    response = ask(gdpr_client, headers, kind="rectification", changes={"lastName": "Limoeiro-Sousa"})
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "done"
    assert repository.get_member(store=world.store.for_brand(BRAND),
                                 member_id=ANA["id"])[0].last_name == "Limoeiro-Sousa"
    reasons = {doc["action"]: doc["reason"] for doc in world.store.for_brand(BRAND).query_all("gdpr_register")}
    assert reasons["rectified"] == "fields:lastName"

    # The email is not the member's to edit: the request waits for a Manager admin.
    waiting = ask(gdpr_client, headers, kind="rectification", fields=["email"], reason="new address").json()
    assert waiting["state"] == "identity_verified" and waiting["fields"] == ["email"]


def test_an_objection_turns_the_communication_opt_ins_off(gdpr_client, world):
    headers = member_headers(world, ANA)
    response = ask(gdpr_client, headers, kind="objection")
    assert response.status_code == 201 and response.json()["state"] == "done"
    communication = repository.get_member(store=world.store.for_brand(BRAND), member_id=ANA["id"])[0].communication
    assert not any(communication.model_dump().values())
    only = ask(gdpr_client, member_headers(world, BOB), kind="objection", communication={"newsletters": False})
    assert only.json()["state"] == "done"
    bob = repository.get_member(store=world.store.for_brand(BRAND), member_id=BOB["id"])[0].communication
    assert (bob.newsletters, bob.event_notifications) == (False, True)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "forget-me"}, "kind"),
    ({}, "kind"),
    ({"kind": "access", "changes": {"lastName": "X"}}, "changes"),
    ({"kind": "rectification"}, "changes"),
    ({"kind": "rectification", "changes": {"email": "x@example.com"}}, "changes.email"),
    ({"kind": "rectification", "fields": ["password"]}, "fields.0"),
    ({"kind": "erasure", "communication": {"newsletters": False}}, "communication"),
    ({"kind": "access", "reason": "x" * 1001}, "reason"),
    ({"kind": "access", "surprise": 1}, "surprise"),
])
def test_bad_requests_are_422_naming_the_field_and_write_nothing(gdpr_client, world, body, field):
    response = gdpr_client.post(f"{GDPR}/requests", headers=member_headers(world, ANA), json=body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    store = world.store.for_brand(BRAND)
    assert store.query_all("gdpr_requests") == [] and store.query_all("gdpr_register") == []

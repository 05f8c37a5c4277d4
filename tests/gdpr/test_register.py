"""The GDPR register: every request, state change and export, by keyed hash of the person, without content."""

from __future__ import annotations

import pytest

from shared.gdpr import register
from tests.gdpr import test_rights_api as _api
from tests.gdpr.test_rights_api import (
    ANA,
    BOB,
    BRAND,
    ask,
    member_headers,
)

gdpr_client = _api.gdpr_client  # the shared fixture
world = _api.world  # the shared fixture

REGISTER = f"/api/v1/manager/brands/{BRAND}/gdpr/register"


def test_the_register_lists_every_request_and_export_without_personal_data(gdpr_client, world, manager_token):
    headers = member_headers(world, ANA)
    ask(gdpr_client, headers, kind="access", reason="Anabela wants her data at ana.lima@example.com")
    ask(gdpr_client, headers, kind="erasure")
    ask(gdpr_client, headers, kind="rectification", changes={"firstName": "Ana"})
    ask(gdpr_client, member_headers(world, BOB), kind="portability")
    admin = manager_token("admin", BRAND)

    listed = gdpr_client.get(REGISTER, headers=admin, params={"memberId": ANA["id"]})
    assert listed.status_code == 200, listed.text
    entries = listed.json()["items"]
    ana_hash = register.subject_hash(world.hasher(BRAND), "member", ANA["id"])
    assert {entry["subjectHash"] for entry in entries} == {ana_hash}
    actions = [entry["action"] for entry in entries]
    assert actions.count("request_received") == 3 and actions.count("export_created") == 1
    assert {"request_identity_verified", "request_in_progress", "request_done", "erasure_confirmation_requested",
            "rectified"} <= set(actions)
    same = gdpr_client.get(REGISTER, headers=admin, params={"subjectHash": ana_hash}).json()["items"]
    assert same == entries
    everyone = gdpr_client.get(REGISTER, headers=admin).json()["items"]
    assert len(everyone) > len(entries)

    raw = repr(world.store.for_brand(BRAND).query_all("gdpr_register"))
    for person in (ANA, BOB):
        for clue in (person["id"], person["email"], person["first_name"], person["last_name"]):
            assert clue not in raw
    assert "Ana" not in raw and "wants" not in raw  # no free text either


def test_the_register_is_for_admins_of_the_brand(gdpr_client, world, manager_token):
    assert gdpr_client.get(REGISTER, headers=manager_token("editor", BRAND)).status_code == 403
    assert gdpr_client.get(REGISTER, headers=manager_token("admin", "globex")).status_code == 404
    two = gdpr_client.get(REGISTER, headers=manager_token("admin", BRAND), params={"memberId": "a", "visitorId": "b"})
    assert two.status_code == 422 and two.json()["errors"][0]["field"] == "subjectHash"


def test_the_register_pages_newest_first(gdpr_client, world, manager_token, clock):
    from datetime import timedelta

    for _ in range(3):
        ask(gdpr_client, member_headers(world, ANA), kind="objection")
        clock.advance(timedelta(minutes=1))
    admin = manager_token("admin", BRAND)
    first = gdpr_client.get(REGISTER, headers=admin, params={"pageSize": 4}).json()
    second = gdpr_client.get(REGISTER, headers=admin, params={"pageSize": 4, "continuation": first["continuation"]})
    dates = [entry["createdAt"] for entry in first["items"] + second.json()["items"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 8


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"subject_hash": "member-ana"}, "keyed hash"),
    ({"reason": "Ana asked by phone"}, "short code"),
    ({"actor": "member:member-ana"}, "hasher"),
    ({"actor": "ana.lima@example.com"}, "actor"),
])
def test_record_refuses_anything_that_could_carry_personal_data(container, kwargs, message):
    store = container.store.for_brand(BRAND)
    arguments = {"actor": "system", "action": "export_created", "subject_hash": "a" * 64, "reason": "gdpr_art15",
                 "now": container.clock.now(), **kwargs}
    with pytest.raises(ValueError, match=message):
        register.record(store=store, **arguments)
    assert store.query_all("gdpr_register") == []


def test_a_subjects_own_actions_are_stored_under_their_hash(container):
    store, hasher = container.store.for_brand(BRAND), container.hasher(BRAND)
    hashed = register.subject_hash(hasher, "member", "member-ana")
    entry = register.record(store=store, actor="member:member-ana", action="request_received", subject_hash=hashed,
                            reason="gdpr_art15", now=container.clock.now(), hasher=hasher, entry_id="r1:received")
    assert entry["actor"] == f"member:{hashed}"
    again = register.record(store=store, actor="system", action="request_received", subject_hash=hashed, reason=None,
                            now=container.clock.now(), entry_id="r1:received")
    assert again["id"] == entry["id"] and len(store.query_all("gdpr_register")) == 1  # a retry lands once
    assert hashed != register.subject_hash(hasher, "visitor", "member-ana")

"""Unsubscription, blocking and end of contract through the App and Manager APIs, with the clock moved."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.identity import repository
from tests.builders import queued_emails
from tests.identity.test_profile_api import BRAND, OTHER, add_member, app_headers, make_brands

ME = f"/api/v1/app/{BRAND}/me"
MEMBERS = f"/api/v1/manager/brands/{BRAND}/members"


def cancel_token(email: dict) -> str:
    match = re.search(r"#token=([A-Za-z0-9_-]+)$", email["data"]["cancel_url"])
    assert match
    return match.group(1)


@pytest.fixture
def world(client, container, manager_token):
    make_brands(client, manager_token, BRAND, OTHER)
    add_member(container, member_id="m1")
    add_member(container, brand_id=OTHER, member_id="g1")
    return container


def unsubscribe(client, headers):
    return client.post(f"{ME}/unsubscribe", headers=headers, json={"confirm": True})


def test_unsubscribing_blocks_the_next_request_at_once_and_emails_a_cancel_link(client, world, clock):
    headers = app_headers(world, add_member_ref(world))
    assert client.post(f"{ME}/unsubscribe", headers=headers, json={}).status_code == 422  # must confirm
    response = unsubscribe(client, headers)
    assert response.status_code == 202
    assert response.json() == {"status": "unsubscribed", "erasureDueAt": "2030-01-08T09:00:00Z"}
    assert client.get(ME, headers=headers).status_code == 401
    [email] = queued_emails(world)
    assert email["template"] == "unsubscription_confirmation" and email["toEmail"] == "m1@example.com"
    assert email["data"]["erase_on"] == "2030-01-08"

    clock.advance(timedelta(days=2))
    token = cancel_token(email)
    cancelled = client.post(f"{ME}/unsubscribe/cancel", json={"token": token})
    assert cancelled.status_code == 200 and cancelled.json() == {"status": "active"}
    assert client.get(ME, headers=app_headers(world, add_member_ref(world))).status_code == 200
    assert world.store.for_brand(BRAND).get(repository.MEMBERS, "m1")["retention"]["rule"] == "member_inactive"

    again = client.post(f"{ME}/unsubscribe/cancel", json={"token": token})
    assert again.status_code == 410  # the link works once


def test_the_cancel_link_stops_working_when_the_erasure_is_due(client, world, clock):
    unsubscribe(client, app_headers(world, add_member_ref(world)))
    token = cancel_token(queued_emails(world)[0])
    clock.advance(timedelta(days=7))
    assert client.post(f"{ME}/unsubscribe/cancel", json={"token": token}).status_code == 410
    assert add_member_ref(world).status == "unsubscribed"
    forged = client.post(f"{ME}/unsubscribe/cancel", json={"token": "not-a-token"})
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "token"


def test_a_cancel_link_of_one_brand_does_not_work_on_another(client, world):
    unsubscribe(client, app_headers(world, add_member_ref(world)))
    token = cancel_token(queued_emails(world)[0])
    assert client.post(f"/api/v1/app/{OTHER}/me/unsubscribe/cancel", json={"token": token}).status_code == 422


def add_member_ref(container, member_id="m1"):
    return repository.get_member(store=container.store.for_brand(BRAND), member_id=member_id)[0]


ACTIONS = [
    # (method, path suffix, minimum level)
    ("PATCH", "", "editor"),
    ("POST", "/block", "editor"),
    ("POST", "/unblock", "editor"),
    ("POST", "/end-contract", "admin"),
    ("POST", "/reactivate", "admin"),
    ("POST", "/cancel-unsubscription", "admin"),
]
LEVELS = ("viewer", "editor", "admin")


@pytest.mark.parametrize("level", LEVELS)
def test_manager_levels_read_edit_and_end_contracts(client, world, manager_token, level):
    headers = manager_token(level, BRAND)
    assert client.get(MEMBERS, headers=headers).status_code == 200
    assert client.get(f"{MEMBERS}/m1", headers=headers).json()["firstName"] == "Ana"
    for method, suffix, minimum in ACTIONS:
        response = client.request(method, f"{MEMBERS}/m1{suffix}", headers=headers, json={})
        allowed = LEVELS.index(level) >= LEVELS.index(minimum)
        assert (response.status_code != 403) == allowed, (method, suffix, response.status_code)


def test_an_editor_blocks_and_the_member_is_refused_at_once(client, world, manager_token):
    member_headers = app_headers(world, add_member_ref(world))
    editor = manager_token("editor", BRAND)
    blocked = client.post(f"{MEMBERS}/m1/block", headers=editor)
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    assert client.get(ME, headers=member_headers).status_code == 401
    assert client.post(f"{MEMBERS}/m1/end-contract", headers=editor).status_code == 403
    assert client.post(f"{MEMBERS}/m1/unblock", headers=editor).json()["status"] == "active"
    assert client.get(ME, headers=member_headers).status_code == 200


def test_an_admin_ends_a_contract_and_can_reactivate_only_within_the_delay(client, world, manager_token, clock):
    admin = manager_token("admin", BRAND)
    ended = client.post(f"{MEMBERS}/m1/end-contract", headers=admin).json()
    assert ended["status"] == "contract_ended" and ended["erasureDueAt"] == "2030-01-08T09:00:00Z"
    assert client.post(f"{MEMBERS}/m1/end-contract", headers=admin).json()["erasureDueAt"] == ended["erasureDueAt"]
    clock.advance(timedelta(days=6))
    admin = manager_token("admin", BRAND)
    assert client.post(f"{MEMBERS}/m1/reactivate", headers=admin).json()["status"] == "active"

    client.post(f"{MEMBERS}/m1/end-contract", headers=admin)
    clock.advance(timedelta(days=7))
    admin = manager_token("admin", BRAND)
    too_late = client.post(f"{MEMBERS}/m1/reactivate", headers=admin)
    assert too_late.status_code == 409 and "Too late" in too_late.json()["detail"]


def test_an_admin_cancels_an_unsubscription(client, world, manager_token):
    unsubscribe(client, app_headers(world, add_member_ref(world)))
    response = client.post(f"{MEMBERS}/m1/cancel-unsubscription", headers=manager_token("admin", BRAND))
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_an_editor_changes_profile_fields_and_role_but_not_to_an_external_role(client, world, manager_token):
    editor = manager_token("editor", BRAND)
    changed = client.patch(f"{MEMBERS}/m1", headers=editor, json={"role": 4, "position": "Store lead"})
    assert changed.status_code == 200 and changed.json()["role"] == 4 and changed.json()["position"] == "Store lead"
    refused = client.patch(f"{MEMBERS}/m1", headers=editor, json={"role": 7})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "role"


def test_another_brands_member_is_404_for_every_manager_route(client, world, manager_token):
    admin = manager_token("admin", BRAND)
    assert client.get(f"{MEMBERS}/g1", headers=admin).status_code == 404
    for method, suffix, _ in ACTIONS:
        assert client.request(method, f"{MEMBERS}/g1{suffix}", headers=admin, json={}).status_code == 404
    assert client.get(f"/api/v1/manager/brands/{OTHER}/members/g1", headers=admin).status_code == 404


def test_the_member_list_pages_and_filters(client, world, manager_token):
    for index in range(2, 6):
        add_member(world, member_id=f"m{index}", role=0 if index % 2 else 3)
    viewer = manager_token("viewer", BRAND)
    client.post(f"{MEMBERS}/m2/block", headers=manager_token("editor", BRAND))
    first = client.get(MEMBERS, headers=viewer, params={"pageSize": 2}).json()
    second = client.get(MEMBERS, headers=viewer, params={"pageSize": 2, "continuation": first["continuation"]}).json()
    assert [m["id"] for m in first["items"]] == ["m1", "m2"] and [m["id"] for m in second["items"]] == ["m3", "m4"]

    def ids(**params):
        return [m["id"] for m in client.get(MEMBERS, headers=viewer, params=params).json()["items"]]

    assert ids(status="blocked") == ["m2"]
    assert ids(role=0) == ["m3", "m5"]
    assert client.get(MEMBERS, headers=viewer, params={"role": 7}).status_code == 422

"""Manager users: invitation by an admin, single-use 72-hour link, sign-in with lockout, levels and disabling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.identity import manager_users
from shared.store_schema import PLATFORM_SCOPE
from tests.builders import queued_emails
from tests.identity.test_profile_api import BRAND, OTHER, make_brands

BASE = f"/api/v1/manager/brands/{BRAND}"
PASSWORD = "correct horse battery"


def invite(client, headers, email="eve@example.com", level="editor", base=BASE):
    return client.post(f"{base}/users", headers=headers, json={"email": email, "level": level, "firstName": "Eve"})


def invitation_token(container) -> str:
    [email] = [mail for mail in queued_emails(container) if mail["template"] == "manager_invitation"]
    match = re.search(r"#token=([A-Za-z0-9_-]+)$", email["data"]["invite_url"])
    assert match
    return match.group(1)


def login(client, email="eve@example.com", password=PASSWORD, base=BASE):
    return client.post(f"{base}/auth/login", json={"email": email, "password": password})


@pytest.fixture
def brands(client, manager_token):
    make_brands(client, manager_token, BRAND, OTHER)


def test_an_invited_user_accepts_once_and_signs_in_with_their_level(client, container, manager_token, brands):
    response = invite(client, manager_token("admin", BRAND))
    assert response.status_code == 201
    assert response.json()["status"] == "invited" and response.json()["level"] == "editor"
    token = invitation_token(container)
    assert login(client).status_code == 401  # no password before acceptance

    short = client.post(f"{BASE}/users/invitations/accept", json={"token": token, "password": "short"})
    assert short.status_code == 422  # a bad password does not use the link up
    accepted = client.post(f"{BASE}/users/invitations/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    again = client.post(f"{BASE}/users/invitations/accept", json={"token": token, "password": PASSWORD})
    assert again.status_code == 410

    signed_in = login(client, email="  EVE@example.com ")
    assert signed_in.status_code == 200
    body = signed_in.json()
    assert body["expiresIn"] == 8 * 3600 and body["user"]["lastLoginAt"] == "2030-01-01T09:00:00Z"
    principal = container.tokens.verify(body["accessToken"], audience="manager", now=container.clock.now())
    assert (principal.brand_id, principal.level, principal.subject) == (BRAND, "editor", body["user"]["id"])
    headers = {"Authorization": f"Bearer {body['accessToken']}"}
    assert client.get(f"{BASE}/members", headers=headers).status_code == 200
    assert client.get(f"{BASE}/users", headers=headers).status_code == 403  # editors do not manage users


def test_the_invitation_link_expires_after_72_hours(client, container, manager_token, clock, brands):
    invite(client, manager_token("admin", BRAND))
    token = invitation_token(container)
    clock.advance(timedelta(hours=72))
    response = client.post(f"{BASE}/users/invitations/accept", json={"token": token, "password": PASSWORD})
    assert response.status_code == 410
    assert login(client).status_code == 401


def test_inviting_again_replaces_the_previous_link(client, container, manager_token, brands):
    invite(client, manager_token("admin", BRAND))
    old = invitation_token(container)
    assert invite(client, manager_token("admin", BRAND), level="viewer").status_code == 201
    new = invitation_token(container)
    assert client.post(f"{BASE}/users/invitations/accept", json={"token": old, "password": PASSWORD}).status_code == 422
    accepted = client.post(f"{BASE}/users/invitations/accept", json={"token": new, "password": PASSWORD})
    assert accepted.json()["level"] == "viewer"
    assert invite(client, manager_token("admin", BRAND)).status_code == 409  # already has access


@pytest.mark.parametrize(("level", "granted", "status"), [
    ("admin", "admin", 201),
    ("admin", "operator", 403),
    ("editor", "viewer", 403),
    ("viewer", "viewer", 403),
    ("operator", "admin", 201),
])
def test_who_may_invite_whom(client, manager_token, brands, level, granted, status):
    response = invite(client, manager_token(level, None if level == "operator" else BRAND), level=granted)
    assert response.status_code == status


def test_a_bad_email_is_422_naming_the_field(client, manager_token, brands):
    response = invite(client, manager_token("admin", BRAND), email="not-an-email")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "email"


def test_another_brands_admin_cannot_invite_here(client, manager_token, brands):
    assert invite(client, manager_token("admin", OTHER)).status_code == 404


def accepted_user(client, container, manager_token, email="eve@example.com", level="editor", base=BASE, headers=None):
    invite(client, headers or manager_token("admin", BRAND), email=email, level=level, base=base)
    token = invitation_token(container)
    return client.post(f"{base}/users/invitations/accept", json={"token": token, "password": PASSWORD}).json()


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, container, manager_token, clock, brands):
    accepted_user(client, container, manager_token)
    for _ in range(5):
        assert login(client, password="wrong password!").status_code == 401
    locked = login(client)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    clock.advance(timedelta(minutes=16))
    assert login(client).status_code == 200


def test_an_unknown_email_and_a_wrong_password_look_the_same(client, container, manager_token, brands):
    accepted_user(client, container, manager_token)
    unknown, wrong = login(client, email="nobody@example.com"), login(client, password="wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_an_admin_lists_changes_level_and_disables_users(client, container, manager_token, brands):
    user = accepted_user(client, container, manager_token)
    admin = manager_token("admin", BRAND, subject="admin-1")
    listed = {(u["id"], u["level"], u["status"]) for u in client.get(f"{BASE}/users", headers=admin).json()["items"]}
    assert (user["id"], "editor", "active") in listed and ("admin-1", "admin", "active") in listed
    lowered = client.patch(f"{BASE}/users/{user['id']}", headers=admin, json={"level": "viewer"})
    assert lowered.json()["level"] == "viewer"
    assert client.patch(f"{BASE}/users/{user['id']}", headers=admin, json={"level": "operator"}).status_code == 403

    disabled = client.put(f"{BASE}/users/{user['id']}/status", headers=admin, json={"status": "disabled"})
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert login(client).status_code == 401
    store = container.store.for_brand(BRAND)
    with pytest.raises(Exception, match="disabled"):
        manager_users.check_active(store=store, user_id=user["id"], token_level="viewer")
    client.put(f"{BASE}/users/{user['id']}/status", headers=admin, json={"status": "active"})
    assert login(client).status_code == 200
    assert manager_users.check_active(store=store, user_id=user["id"], token_level="admin") == "viewer"
    # A disabled user's token stops working at once, on every Manager route.
    viewer = manager_token("viewer", BRAND, subject=user["id"])
    client.put(f"{BASE}/users/{user['id']}/status", headers=admin, json={"status": "disabled"})
    assert client.get(f"{BASE}/members", headers=viewer).status_code == 401


def test_an_admin_cannot_change_their_own_access(client, container, manager_token, brands):
    user = accepted_user(client, container, manager_token, level="admin")
    own = manager_token("admin", BRAND, subject=user["id"])
    assert client.put(f"{BASE}/users/{user['id']}/status", headers=own, json={"status": "disabled"}).status_code == 409


def test_operators_live_under_the_platform_scope(client, container, manager_token, brands):
    platform = f"/api/v1/manager/brands/{PLATFORM_SCOPE}"
    assert invite(client, manager_token("admin", BRAND), level="operator", base=platform).status_code == 404
    accepted_user(client, container, manager_token, email="ops@popsell.example", level="operator", base=platform,
                  headers=manager_token("operator"))
    body = login(client, email="ops@popsell.example", base=platform).json()
    principal = container.tokens.verify(body["accessToken"], audience="manager", now=container.clock.now())
    assert principal.is_operator and principal.brand_id is None
    assert login(client, email="ops@popsell.example").status_code == 401  # not a user of the brand

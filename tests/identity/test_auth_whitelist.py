"""The registration whitelist: managed by brand admins as keyed hashes, enforced at signup when on."""

from __future__ import annotations

import pytest

from tests.identity.test_auth_support import (  # noqa: F401 - fast_bcrypt is a fixture, used by pytestmark
    APP,
    BRAND,
    EMAIL,
    drain_outbox,
    fast_bcrypt,
    make_brand,
    signup_body,
)

pytestmark = pytest.mark.usefixtures("fast_bcrypt")
WHITELIST = f"/api/v1/manager/brands/{BRAND}/whitelist"


def test_whitelist_off_lets_anyone_sign_up(client, container):
    make_brand(container)
    assert client.post(f"{APP}/signup", json=signup_body()).status_code == 202


def test_whitelist_on_refuses_unlisted_addresses(client, container):
    make_brand(container, registration={"whitelistEnabled": True})
    response = client.post(f"{APP}/signup", json=signup_body())
    assert response.status_code == 403
    assert response.json()["type"].endswith("/registration-not-allowed")
    assert drain_outbox(container) == []


def test_a_listed_email_or_customer_id_may_sign_up_with_the_entrys_role(client, container, manager_token):
    make_brand(container, registration={"whitelistEnabled": True})
    admin = manager_token("admin", BRAND)
    added = client.post(WHITELIST, headers=admin, json={"emails": [" Jane.Doe@Example.com"], "role": 3})
    assert added.status_code == 200
    assert added.json()["total"] == {"emails": 1, "customerIds": 0}
    client.post(WHITELIST, headers=admin, json={"customerIds": ["LOYAL-42"]})
    assert client.post(f"{APP}/signup", json=signup_body()).status_code == 202
    other = signup_body(email="sam@example.com", customerId="LOYAL-42")
    assert client.post(f"{APP}/signup", json=other).status_code == 202
    roles = sorted(doc["role"] for doc in container.store.for_brand(BRAND).query_all("members"))
    assert roles == [0, 3]


def test_entries_are_stored_only_as_hashes_and_can_be_removed(client, container, manager_token):
    make_brand(container, registration={"whitelistEnabled": True})
    admin = manager_token("admin", BRAND)
    client.post(WHITELIST, headers=admin, json={"emails": [EMAIL], "customerIds": ["LOYAL-42"]})
    stored = container.store.for_brand(BRAND).query_all("whitelist")
    assert len(stored) == 2 and EMAIL not in str(stored) and "LOYAL-42" not in str(stored)
    removed = client.request("DELETE", WHITELIST, headers=admin, json={"emails": [EMAIL]})
    assert removed.json() == {"changed": 1, "total": {"emails": 0, "customerIds": 1}}
    assert client.get(WHITELIST, headers=admin).json() == {"emails": 0, "customerIds": 1}
    assert client.post(f"{APP}/signup", json=signup_body()).status_code == 403


@pytest.mark.parametrize(("level", "brand", "status"), [("editor", BRAND, 403), ("admin", "globex", 404)])
def test_only_the_brands_admins_manage_the_list(client, container, manager_token, level, brand, status):
    make_brand(container)
    response = client.post(WHITELIST, headers=manager_token(level, brand), json={"emails": [EMAIL]})
    assert response.status_code == status


def test_bad_entries_are_refused_naming_them(client, container, manager_token):
    make_brand(container)
    response = client.post(WHITELIST, headers=manager_token("admin", BRAND), json={"emails": [EMAIL, "nope"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "emails.1"
    assert client.get(WHITELIST, headers=manager_token("admin", BRAND)).json()["emails"] == 0

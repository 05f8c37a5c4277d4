"""Brands through the Manager API: operator creates, brand admins configure their own, nobody sees another brand."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def create_brand(client, headers, brand_id="acme", **extra):
    return client.post("/api/v1/manager/brands", json={"id": brand_id, "name": brand_id.title(), **extra},
                       headers=headers)


def test_operator_creates_a_brand_with_the_guides_defaults(client, manager_token):
    response = create_brand(client, manager_token("operator"))
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/manager/brands/acme"
    body = response.json()
    brand = body["brand"]
    assert brand["pro"] == 0
    assert brand["retention"] == {
        "unsubscriptionDays": 7, "endOfContractDays": 7, "brandContractEndDays": 7,
        "invitationPendingDays": 15, "contactsNeverInvitedDays": 30,
        "optedOutContactsDays": 365, "inactivityDays": 1095, "suspensionMaxMonths": 6,
    }
    assert brand["attributionWindowDays"] == 180
    assert brand["registration"] == {"whitelistEnabled": False, "ssoExclusive": False}
    assert brand["brandOptIn"] is None
    assert brand["manualContactEntry"] is False
    assert body["integrationKey"]["secret"]
    assert "secret" not in brand["integrationKeys"][0]


def test_creating_the_same_brand_twice_is_a_conflict(client, manager_token):
    assert create_brand(client, manager_token("operator")).status_code == 201
    again = create_brand(client, manager_token("operator"))
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM


def test_only_the_operator_creates_brands(client, manager_token):
    response = create_brand(client, manager_token("admin", "acme"))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


def test_no_token_is_401_and_a_forged_token_too(client):
    assert create_brand(client, {}).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    assert create_brand(client, forged).status_code == 401


def test_an_expired_token_is_refused(client, manager_token, clock):
    from datetime import timedelta

    headers = manager_token("operator")
    clock.advance(timedelta(hours=2))
    assert create_brand(client, headers).status_code == 401


def test_brand_admin_edits_own_settings_and_nested_objects_merge(client, manager_token):
    create_brand(client, manager_token("operator"))
    response = client.patch(
        "/api/v1/manager/brands/acme",
        json={"retention": {"inactivityDays": 730}, "brandOptIn": True, "widgetAllowedOrigins": ["https://shop.acme.com"]},
        headers=manager_token("admin", "acme"),
    )
    assert response.status_code == 200
    brand = response.json()
    assert brand["retention"]["inactivityDays"] == 730
    assert brand["retention"]["unsubscriptionDays"] == 7
    assert brand["brandOptIn"] is True
    assert brand["widgetAllowedOrigins"] == ["https://shop.acme.com"]
    assert client.get("/api/v1/manager/brands/acme", headers=manager_token("viewer", "acme")).json() == brand


def test_a_duration_longer_than_the_guide_allows_is_refused_and_nothing_changes(client, manager_token):
    create_brand(client, manager_token("operator"))
    admin = manager_token("admin", "acme")
    response = client.patch("/api/v1/manager/brands/acme", json={"retention": {"inactivityDays": 2000}}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "retention.inactivityDays" in response.json()["detail"]
    assert client.get("/api/v1/manager/brands/acme", headers=admin).json()["retention"]["inactivityDays"] == 1095


def test_unknown_fields_and_bad_origins_are_named(client, manager_token):
    create_brand(client, manager_token("operator"))
    admin = manager_token("admin", "acme")
    unknown = client.patch("/api/v1/manager/brands/acme", json={"colour": "red"}, headers=admin)
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    bad = client.patch("/api/v1/manager/brands/acme", json={"widgetAllowedOrigins": ["ftp://x.com/a"]}, headers=admin)
    assert bad.status_code == 422 and "widgetAllowedOrigins" in bad.json()["detail"]


def test_editors_and_viewers_cannot_change_programme_settings(client, manager_token):
    create_brand(client, manager_token("operator"))
    for level in ("viewer", "editor"):
        response = client.patch("/api/v1/manager/brands/acme", json={"name": "X"}, headers=manager_token(level, "acme"))
        assert response.status_code == 403


def test_another_brands_settings_answer_404(client, manager_token):
    operator = manager_token("operator")
    create_brand(client, operator, "acme")
    create_brand(client, operator, "globex")
    intruder = manager_token("admin", "globex")
    for method, body in (("get", None), ("patch", {"name": "Hacked"})):
        response = client.request(method, "/api/v1/manager/brands/acme", json=body, headers=intruder)
        assert response.status_code == 404
    assert client.get("/api/v1/manager/brands", headers=intruder).json()["items"][0]["id"] == "globex"
    assert client.get("/api/v1/manager/brands/acme", headers=operator).json()["name"] == "Acme"


def test_operator_lists_every_brand_page_by_page(client, manager_token):
    operator = manager_token("operator")
    for index in range(5):
        create_brand(client, operator, f"brand-{index}")
    seen, continuation = [], None
    while True:
        params = {"pageSize": 2, **({"continuation": continuation} if continuation else {})}
        page = client.get("/api/v1/manager/brands", params=params, headers=operator).json()
        seen += [item["id"] for item in page["items"]]
        continuation = page["continuation"]
        if not continuation:
            break
    assert seen == [f"brand-{index}" for index in range(5)]


def test_integration_keys_rotate_and_revoke(client, manager_token):
    create_brand(client, manager_token("operator"))
    admin = manager_token("admin", "acme")
    first = client.get("/api/v1/manager/brands/acme", headers=admin).json()["integrationKeys"][0]["kid"]
    created = client.post("/api/v1/manager/brands/acme/integration-keys", headers=admin)
    assert created.status_code == 201 and created.json()["secret"]
    assert client.delete(f"/api/v1/manager/brands/acme/integration-keys/{first}", headers=admin).status_code == 204
    kids = [key["kid"] for key in client.get("/api/v1/manager/brands/acme", headers=admin).json()["integrationKeys"]]
    assert kids == [created.json()["kid"]]
    assert client.delete(f"/api/v1/manager/brands/acme/integration-keys/{first}", headers=admin).status_code == 404


def test_operator_changes_programme_status(client, manager_token):
    create_brand(client, manager_token("operator"))
    response = client.put("/api/v1/manager/brands/acme/status", json={"status": "suspended"},
                          headers=manager_token("operator"))
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    refused = client.put("/api/v1/manager/brands/acme/status", json={"status": "active"},
                         headers=manager_token("admin", "acme"))
    assert refused.status_code == 403

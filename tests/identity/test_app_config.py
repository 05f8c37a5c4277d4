"""The App's public programme configuration tells a signup form which names the brand's policy requires."""

from __future__ import annotations

import pytest

from tests.identity.test_auth_support import APP, BRAND, make_brand, signup_body


@pytest.mark.parametrize(("policy", "required"), [
    ("full_name", ["firstName", "lastName"]), ("first_name_initial", ["firstName", "lastName"]), ("alias", ["alias"]),
])
def test_the_config_names_the_required_names_and_signup_holds_to_them(client, container, policy, required):
    make_brand(container, displayNamePolicy=policy)
    config = client.get(f"/api/v1/app/{BRAND}/config")
    assert config.status_code == 200
    body = config.json()
    assert body["displayNamePolicy"] == policy and body["signup"]["requiredNames"] == required
    assert body["signup"] == {"requiredNames": required, "whitelistEnabled": False, "ssoExclusive": False}
    missing = client.post(f"{APP}/signup", json=signup_body(firstName=None, lastName=None, alias=None))
    assert missing.status_code == 422
    assert sorted(error["field"] for error in missing.json()["errors"]) == sorted(required)


def test_an_unknown_or_ended_programme_has_no_config(client, container):
    assert client.get("/api/v1/app/nobody/config").status_code == 404
    make_brand(container)
    from shared.brands import service as brands

    brands.set_status(store=container.store, clock=container.clock, brand_id=BRAND, status="contract_ended")
    assert client.get(f"/api/v1/app/{BRAND}/config").status_code == 404


def test_the_signup_document_says_which_policy_requires_which_name(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["MemberSignup"]
    assert "displayNamePolicy" in schema["description"]
    assert "requiredNames" in schema["properties"]["lastName"]["description"]

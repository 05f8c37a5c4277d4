"""Bad input gets a clear 4xx problem naming what is wrong, never a 500, and nothing is half-written."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from tests.crm.test_contacts_api import CONTACTS, crm_client, members  # noqa: F401 - fixtures
from tests.crm.test_provider_events import WEBHOOK, _auth, hook_client  # noqa: F401 - fixtures
from tests.http.test_brands_api import create_brand

PROBLEM = "application/problem+json"
DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_NUMBER = b'{"event": "sent", "time": ' + b"9" * 5000 + b', "MessageID": 1}'


@pytest.mark.parametrize("body", [b"{", b'{"firstName": "Zoe",}', b"\xff\xfe", DEEP,
                                  b'{"notes": ' + b"1" * 5000 + b"}"])
def test_malformed_json_is_a_400_saying_the_body_is_not_json(crm_client, members, container, body):  # noqa: F811
    response = crm_client.post(CONTACTS, headers={**members["m1"], "Content-Type": "application/json"}, content=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("/malformed-json") and "not valid JSON" in problem["detail"]
    assert container.store.for_brand("acme").query_all("contacts") == []


@pytest.mark.parametrize("body", [DEEP, LONG_NUMBER, b'{"event": "sent", "time": 1, "MessageID": ' + b"7" * 5000 + b"}",
                                  b'[{"event": "sent", "time": 99999999999999, "MessageID": 1}]'])
def test_the_mailjet_webhook_answers_odd_json_with_a_4xx(hook_client, body):  # noqa: F811
    response = hook_client.post(WEBHOOK, headers={**_auth(), "Content-Type": "application/json"}, content=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


def test_null_tags_clear_the_tags_of_a_contact(crm_client, members):  # noqa: F811
    created = crm_client.post(CONTACTS, headers=members["m1"], json={"firstName": "Zoe", "tags": ["vip"]})
    assert created.status_code == 201
    edited = crm_client.patch(f"{CONTACTS}/{created.json()['id']}", headers=members["m1"], json={"tags": None})
    assert edited.status_code == 200, edited.text
    assert edited.json()["tags"] == []
    assert crm_client.post(CONTACTS, headers=members["m1"], json={"firstName": "Ann", "tags": None}).status_code == 201


@pytest.mark.parametrize(("field", "value"), [
    ("homeUrl", "javascript:alert(1)"), ("homeUrl", "data:text/html,<script>x</script>"),
    ("homeUrl", "https://shop.acme.com/" + "a" * 200_000), ("privacyPolicyUrl", "ftp://acme.com/privacy"),
    ("privacyPolicyUrl", "https://user:pw@acme.com/privacy"), ("homeUrl", "https://acme.com/\u202eevil"),
    ("widgetAllowedOrigins", ["javascript:alert(1)"]), ("widgetAllowedOrigins", ["https://a.com"] * 51),
    ("allowedDomains", [f"d{n}.com" for n in range(101)]),
])
def test_brand_urls_are_https_and_bounded(client, manager_token, field, value):
    response = create_brand(client, manager_token("operator"), **{field: value})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert any(error["field"].startswith(field) for error in response.json()["errors"])
    assert client.get("/api/v1/manager/brands/acme", headers=manager_token("operator")).status_code == 404


def test_a_brand_admin_cannot_set_a_script_as_home_page(client, manager_token):
    assert create_brand(client, manager_token("operator")).status_code == 201
    response = client.patch("/api/v1/manager/brands/acme", headers=manager_token("admin", "acme"),
                            json={"homeUrl": "javascript:alert(document.cookie)"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "homeUrl"


def test_localhost_pages_are_for_local_runs_only(client, manager_token, container):
    local = create_brand(client, manager_token("operator"), homeUrl="http://localhost:3000",
                         widgetAllowedOrigins=["http://localhost:3000"])
    assert local.status_code == 201, local.text
    brand = brands.get(store=container.store, brand_id="acme")
    with pytest.raises(Exception, match="widgetAllowedOrigins.0"):
        brands.refuse_loopback(brand)
    from shared.brands.models import BrandCreate

    with pytest.raises(Exception, match="homeUrl"):
        brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
            {"id": "prod", "name": "Prod", "homeUrl": "http://127.0.0.1:8080/"}))

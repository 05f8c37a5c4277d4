"""One email type everywhere a person's address enters: control and bidi characters refused, IDN accepted."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.emails.address import EmailAddress, checked_email
from shared.identity import repository
from tests.identity.test_auth_support import APP, PROBLEM, fast_bcrypt, signup_body  # noqa: F401 - a fixture
from tests.identity.test_profile_api import add_member, app_headers
from tests.integrations.brand_platform import TERMS, create_brand, sync_member

BRAND = "acme"
# NUL, BEL, a unit separator and a right-to-left override: each inside an otherwise fine address.
ODD = ["jane\u0000doe@example.com", "jane.doe@example.com\u0007", "jane\u001fdoe@example.com",
       "jane\u202edoe@example.com", "jane.doe@exa\u202emple.com"]
IDN = "josé@exämple.com"


class _Form(BaseModel):
    email: EmailAddress


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("  Jane.Doe@Example.com\n", "Jane.Doe@Example.com"),  # trimmed, otherwise as given
        (IDN, IDN),
        ("not an email", None),
        ("jane@localhost", None),
        ("jane@example.test", None),  # special-use names cannot receive mail
        ("Jane <jane@example.com>", None),
        ("x" * 64 + "@" + "d" * 186 + ".com", None),  # 255 characters
        *[(odd, None) for odd in ODD],
    ],
)
def test_the_one_rule(given, stored):
    assert checked_email(given) == stored
    if stored is None:
        with pytest.raises(ValidationError):
            _Form(email=given)
    else:
        assert _Form(email=given).email == stored


def test_the_schema_says_format_email():
    schema = _Form.model_json_schema()["properties"]["email"]
    assert (schema["type"], schema["format"], schema["maxLength"]) == ("string", "email", 254)


@pytest.fixture
def brand(client, manager_token):
    """The brand (manual contact entry on) and its first integration key."""
    return create_brand(client, manager_token, BRAND, manualContactEntry=True)


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return [error["field"] for error in response.json()["errors"]]


@pytest.mark.usefixtures("fast_bcrypt")
@pytest.mark.parametrize("email", ODD)
def test_signup_refuses_odd_characters_naming_the_field(client, container, brand, email):
    assert _fields(client.post(f"{APP}/signup", json=signup_body(email=email))) == ["email"]
    assert container.store.for_brand(BRAND).query_all("members") == []


@pytest.mark.usefixtures("fast_bcrypt")
def test_signup_accepts_an_internationalised_address(client, container, brand):
    assert client.post(f"{APP}/signup", json=signup_body(email=IDN)).status_code == 202
    [member] = container.store.for_brand(BRAND).query_all("members")
    assert member["email"] == IDN


@pytest.fixture
def member_headers(container, brand):
    return app_headers(container, add_member(container, member_id="m1"))


@pytest.mark.parametrize("email", ODD)
def test_contacts_refuse_odd_characters_naming_the_field(client, container, member_headers, email):
    response = client.post(f"/api/v1/app/{BRAND}/contacts", headers=member_headers,
                           json={"firstName": "Zoe", "email": email})
    assert _fields(response) == ["email"]
    assert container.store.for_brand(BRAND).query_all("contacts") == []


def test_contacts_accept_an_internationalised_address(client, container, member_headers):
    response = client.post(f"/api/v1/app/{BRAND}/contacts", headers=member_headers,
                           json={"firstName": "José", "email": IDN})
    assert response.status_code == 201, response.text
    assert response.json()["email"] == IDN


@pytest.mark.parametrize("email", ODD)
def test_sso_provisioning_refuses_odd_characters_naming_the_field(client, container, brand, email):
    response = sync_member(client, brand, container.clock.now(), ssoSubject="emp-1", email=email, role=1, **TERMS)
    assert _fields(response) == ["email"]
    assert container.store.for_brand(BRAND).query_all("members") == []


def test_sso_provisioning_accepts_an_internationalised_address(client, container, brand):
    response = sync_member(client, brand, container.clock.now(), ssoSubject="emp-1", email=IDN, role=1, **TERMS)
    assert response.status_code == 201, response.text
    member, _ = repository.get_member(store=container.store.for_brand(BRAND), member_id=response.json()["memberId"])
    assert member.email == IDN


@pytest.mark.parametrize("email", ODD)
def test_manager_user_creation_refuses_odd_characters_naming_the_field(client, container, brand, manager_token,
                                                                       email):
    response = client.post(f"/api/v1/manager/brands/{BRAND}/users", headers=manager_token("admin", BRAND),
                           json={"email": email, "level": "editor"})
    assert _fields(response) == ["email"]
    users = container.store.for_brand(BRAND).query_all("manager_users")
    assert [user["id"] for user in users] == [f"mu-admin-{BRAND}"]  # only the admin who asked


def test_the_email_queue_refuses_an_odd_recipient(container):
    from shared.emails.service import enqueue_email
    from shared.errors import InvalidInput

    with pytest.raises(InvalidInput):
        enqueue_email(bus=container.bus, brand_id=BRAND, template="test_email", to_email=ODD[0], data={},
                      settings=container.settings)


def test_existing_hashes_do_not_move(container):
    hasher = container.hasher(BRAND)
    assert hasher("email", checked_email("  Jane.Doe@Example.com ")) == hasher("email", "jane.doe@example.com")


def test_a_member_whose_stored_address_the_type_refuses_gets_no_retention_warning():
    from shared.gdpr.retention import notices

    verified = {"status": "active", "emailVerifiedAt": "2029-01-01T00:00:00Z"}
    assert notices.reachable({**verified, "email": "ana@example.com"})
    # Stored before the type existed: unreachable (the sweep goes on), not an email that fails every run.
    assert not notices.reachable({**verified, "email": "ana@shop.local"})

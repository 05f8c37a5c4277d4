"""Member signup through the App API: terms, whitelist, SSO-only, double opt-in, no account enumeration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.identity import repository
from tests.identity.test_auth_support import (
    APP,
    BRAND,
    EMAIL,
    PASSWORD,
    PROBLEM,
    drain_outbox,
    fast_bcrypt,  # noqa: F401 - a fixture, used by pytestmark
    link_token,
    login,
    make_brand,
    signup_body,
)

pytestmark = pytest.mark.usefixtures("fast_bcrypt")


def _member(container, email=EMAIL):
    store = container.store.for_brand(BRAND)
    owner = repository.owner_of(store=store, kind="email", hashed=container.hasher(BRAND)("email", email))
    return repository.get_member(store=store, member_id=owner)[0] if owner else None


@pytest.mark.parametrize("terms", [{"acceptTerms": False}, {"acceptTerms": None}])
def test_no_account_without_accepting_the_terms(client, container, terms):
    make_brand(container)
    response = client.post(f"{APP}/signup", json=signup_body(**terms))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["acceptTerms"]
    assert _member(container) is None
    assert drain_outbox(container) == []


def test_signup_creates_a_pending_ambassador_and_emails_a_link(client, container):
    make_brand(container)
    response = client.post(f"{APP}/signup", json=signup_body())
    assert response.status_code == 202
    member = _member(container)
    assert member.status == "pending_verification"
    assert member.role == 0
    assert member.popsell_terms.version == "2030-01"
    assert member.password_hash and PASSWORD not in member.password_hash
    [mail] = drain_outbox(container)
    assert mail["template"] == "email_verification" and mail["toEmail"] == EMAIL
    assert "Acme" in mail["subject"]
    assert login(client).json()["type"].endswith("/email-not-verified")


def test_the_verification_link_works_once(client, container):
    make_brand(container)
    client.post(f"{APP}/signup", json=signup_body())
    token = link_token(drain_outbox(container)[0])
    first = client.post(f"{APP}/verify-email", json={"token": token})
    assert first.status_code == 200 and first.json()["status"] == "active"
    assert _member(container).email_verified_at == container.clock.now()
    again = client.post(f"{APP}/verify-email", json={"token": token})
    assert again.status_code == 410
    assert again.json()["type"].endswith("/link-expired")
    assert login(client).status_code == 200


def test_the_verification_link_expires_and_a_new_one_can_be_asked(client, container, clock):
    make_brand(container)
    client.post(f"{APP}/signup", json=signup_body())
    token = link_token(drain_outbox(container)[0])
    clock.advance(timedelta(hours=48, seconds=1))
    assert client.post(f"{APP}/verify-email", json={"token": token}).status_code == 410
    assert client.post(f"{APP}/verify-email/resend", json={"email": EMAIL}).status_code == 202
    fresh = link_token(drain_outbox(container)[0])
    assert client.post(f"{APP}/verify-email", json={"token": fresh}).status_code == 200


def test_a_forged_link_is_refused_naming_the_token(client, container):
    make_brand(container)
    response = client.post(f"{APP}/verify-email", json={"token": "not-a-real-token"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "token"


def test_signing_up_twice_does_not_reveal_the_account(client, container):
    make_brand(container)
    first = client.post(f"{APP}/signup", json=signup_body())
    link_one = link_token(drain_outbox(container)[0])
    # Not verified yet: the same answer, and the link again.
    second = client.post(f"{APP}/signup", json=signup_body(password="another password 1"))
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    mails = drain_outbox(container)
    assert [m["template"] for m in mails] == ["email_verification", "email_verification"]
    assert client.post(f"{APP}/verify-email", json={"token": link_one}).status_code == 200
    # Verified: the same answer again, and a notice to the owner instead of a second account.
    third = client.post(f"{APP}/signup", json=signup_body(password="another password 2"))
    assert (third.status_code, third.json()) == (first.status_code, first.json())
    assert drain_outbox(container)[0]["template"] == "signup_attempt"
    assert login(client).status_code == 200  # the original password still holds


def test_a_short_password_is_refused_naming_it(client, container):
    make_brand(container)
    response = client.post(f"{APP}/signup", json=signup_body(password="short"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert _member(container) is None


@pytest.mark.parametrize(
    ("policy", "body", "missing"),
    [
        ("full_name", {"lastName": None}, ["lastName"]),
        ("alias", {"alias": None}, ["alias"]),
        ("alias", {"alias": "jd", "firstName": None, "lastName": None}, None),
    ],
)
def test_names_follow_the_brands_display_policy(client, container, policy, body, missing):
    make_brand(container, displayNamePolicy=policy)
    response = client.post(f"{APP}/signup", json=signup_body(**body))
    if missing is None:
        assert response.status_code == 202
    else:
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == missing


def test_an_sso_only_programme_refuses_signup_and_password_login(client, container):
    make_brand(container, registration={"ssoExclusive": True})
    for response in (client.post(f"{APP}/signup", json=signup_body()), login(client)):
        assert response.status_code == 403
        assert response.json()["type"].endswith("/sso-only")


def test_unknown_brand_is_404(client, container):
    assert client.post("/api/v1/app/nobody/auth/signup", json=signup_body()).status_code == 404

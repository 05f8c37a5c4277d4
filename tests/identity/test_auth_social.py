"""Social login with ID tokens signed by keys the test generates (no network)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.identity import repository
from shared.ports.store import PatchOp
from shared.store_schema import PLATFORM_SCOPE
from tests.identity.test_auth_support import (
    APP,
    BRAND,
    EMAIL,
    PASSWORD,
    drain_outbox,
    fast_bcrypt,  # noqa: F401 - a fixture, used by pytestmark
    login,
    make_brand,
    sign_up_and_verify,
    signup_body,
)

pytestmark = pytest.mark.usefixtures("fast_bcrypt")
CLIENT_ID = "acme-app.apps.googleusercontent.com"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(private_key, kid: str, algorithm) -> dict:
    jwk = algorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


@pytest.fixture
def social_brand(container):
    make_brand(container)
    jwks = {"keys": [_jwk(RSA_KEY, "g1", jwt.algorithms.RSAAlgorithm), _jwk(EC_KEY, "a1", jwt.algorithms.ECAlgorithm)]}
    container.store.for_brand(PLATFORM_SCOPE).patch("brands", BRAND, [PatchOp("set", "socialLogin", {
        "google": {"clientId": CLIENT_ID, "jwks": jwks},
        "apple": {"clientId": "com.acme.app", "jwks": jwks},
    })])


def _id_token(container, *, provider="google", key=RSA_KEY, kid="g1", alg="RS256", **claims) -> str:
    now = int(container.clock.now().timestamp())
    issuer = {"google": "https://accounts.google.com", "apple": "https://appleid.apple.com"}[provider]
    audience = {"google": CLIENT_ID, "apple": "com.acme.app"}[provider]
    body = {"iss": issuer, "aud": audience, "sub": "109876543210", "email": EMAIL, "email_verified": True,
            "given_name": "Jane", "family_name": "Doe", "iat": now, "exp": now + 3600, **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def _social(client, token, provider="google", **extra):
    return client.post(f"{APP}/social", json={"provider": provider, "idToken": token, **extra})


def test_first_social_login_creates_an_active_member_once_terms_are_accepted(client, container, social_brand):
    token = _id_token(container)
    refused = _social(client, token)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["acceptTerms", "termsVersion"]
    created = _social(client, token, acceptTerms=True, termsVersion="2030-01")
    assert created.status_code == 201 and created.json()["created"] is True
    store = container.store.for_brand(BRAND)
    member, _ = repository.get_member(store=store, member_id=created.json()["memberId"])
    assert (member.status, member.first_name, member.email_verified_at) == ("active", "Jane", container.clock.now())
    assert member.social_id_hashes["google"] == container.hasher(BRAND)("social_id", "google:109876543210")
    again = _social(client, _id_token(container))
    assert again.status_code == 200 and again.json()["memberId"] == member.id and again.json()["created"] is False
    assert drain_outbox(container) == []  # the provider verified the address: no double opt-in email


def test_an_es256_apple_token_works_too(client, container, social_brand):
    token = _id_token(container, provider="apple", key=EC_KEY, kid="a1", alg="ES256", email_verified="true")
    assert _social(client, token, provider="apple", acceptTerms=True, termsVersion="v1").status_code == 201


def test_social_login_joins_the_account_with_the_same_verified_email(client, container, social_brand):
    sign_up_and_verify(client, container)
    response = _social(client, _id_token(container))
    assert response.status_code == 200 and response.json()["created"] is False
    assert login(client).status_code == 200  # the password still works beside the social login


def test_a_pending_signup_is_verified_by_the_provider_and_its_password_dropped(client, container, social_brand):
    # Someone registered the address with a password but never confirmed it.
    client.post(f"{APP}/signup", json=signup_body())
    assert _social(client, _id_token(container)).status_code == 200
    assert login(client, password=PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"aud": "someone-else.apps.googleusercontent.com"}, "wrong audience"),
        ({"iss": "https://evil.example.com"}, "wrong issuer"),
        ({"exp": 0}, "expired"),
    ],
)
def test_tokens_for_another_app_or_expired_are_refused(client, container, social_brand, change, why):
    if change.get("exp") == 0:
        change = {"exp": int((container.clock.now() - timedelta(minutes=5)).timestamp())}
    response = _social(client, _id_token(container, **change), acceptTerms=True, termsVersion="v1")
    assert response.status_code == 401, why
    assert container.store.for_brand(BRAND).query_all("members") == []


def test_a_token_signed_by_an_unknown_key_is_refused(client, container, social_brand):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = _social(client, _id_token(container, key=stranger), acceptTerms=True, termsVersion="v1")
    assert response.status_code == 401


def test_an_unconfigured_provider_is_refused_naming_it(client, container, social_brand):
    response = _social(client, "x.y.z", provider="facebook")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "provider"


def test_the_token_is_checked_against_the_clock(client, container, social_brand, clock):
    token = _id_token(container)
    clock.advance(timedelta(hours=2))
    assert _social(client, token, acceptTerms=True, termsVersion="v1").status_code == 401


def test_social_login_respects_the_whitelist(client, container, social_brand, manager_token):
    changed = client.patch(f"/api/v1/manager/brands/{BRAND}", headers=manager_token("admin", BRAND),
                           json={"registration": {"whitelistEnabled": True}})
    assert changed.status_code == 200
    # Brand updates drop keys the Brand model does not know yet, socialLogin included: set it again.
    container.store.for_brand(PLATFORM_SCOPE).patch("brands", BRAND, [PatchOp("set", "socialLogin", {
        "google": {"clientId": CLIENT_ID, "jwks": {"keys": [_jwk(RSA_KEY, "g1", jwt.algorithms.RSAAlgorithm)]}}})])
    response = _social(client, _id_token(container), acceptTerms=True, termsVersion="v1")
    assert response.status_code == 403
    assert response.json()["type"].endswith("/registration-not-allowed")

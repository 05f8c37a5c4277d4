"""Brand SSO: the brand platform provisions, syncs and ends members; members log in by a brand assertion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.identity import repository
from shared.integrations.assertions import sign_assertion
from tests.integrations.brand_platform import (
    TERMS,
    assertion,
    create_brand,
    problem_type,
    signed_call,
    sso_path,
    sync_member,
)

PROFILE = {"ssoSubject": "emp-42", "email": "jane.doe@acme.example", "firstName": "Jane", "lastName": "Doe",
           "customerId": "C-1001", "role": 3, "preferredLanguage": "fr", "position": "Sales assistant",
           "homeShopId": "paris-01"}


@pytest.fixture
def acme(client, manager_token):
    return create_brand(client, manager_token, "acme", retention={"endOfContractDays": 3})


@pytest.fixture
def globex(client, manager_token):
    return create_brand(client, manager_token, "globex")


def stored(container, member_id, brand="acme"):
    member, _ = repository.get_member(store=container.store.for_brand(brand), member_id=member_id)
    return member


def app_me(client, brand, token):
    return client.get(f"/api/v1/app/{brand}/me", headers={"Authorization": f"Bearer {token}"})


def test_first_call_provisions_an_active_member_with_a_verified_email(client, clock, container, acme):
    response = sync_member(client, acme, clock.now(), **PROFILE, **TERMS)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ssoSubject"] == "emp-42" and body["status"] == "active" and body["role"] == 3
    assert "email" not in body  # nothing personal echoed back
    member = stored(container, body["memberId"])
    assert member.email == "jane.doe@acme.example"
    assert member.email_verified_at == clock.now()
    assert member.password_hash is None
    assert member.popsell_terms.version == "2029-06"
    assert (member.first_name, member.last_name, member.position, member.home_shop_id) == (
        "Jane", "Doe", "Sales assistant", "paris-01")
    assert member.customer_id_hash and member.email_hash
    store = container.store.for_brand("acme")
    hasher = container.hasher("acme")
    assert repository.owner_of(store=store, kind="email", hashed=hasher("email", "Jane.Doe@acme.example")) == member.id
    assert repository.owner_of(store=store, kind="customer_id", hashed=hasher("customer_id", "C-1001")) == member.id


@pytest.mark.parametrize(
    ("missing", "fields"),
    [
        (("termsAcceptedAt", "termsVersion"), ["termsAcceptedAt", "termsVersion"]),
        (("termsVersion",), ["termsVersion"]),
        (("email",), ["email"]),
        (("role",), ["role"]),
    ],
)
def test_provisioning_without_email_role_or_popsell_terms_is_refused_and_nothing_is_written(
        client, clock, container, acme, missing, fields):
    profile = {key: value for key, value in {**PROFILE, **TERMS}.items() if key not in missing}
    response = sync_member(client, acme, clock.now(), **profile)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == fields
    store = container.store.for_brand("acme")
    assert store.query_all("members") == []
    assert store.query_all("identity_keys") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", 7), ("role", 8), ("email", "not-an-email"), ("preferredLanguage", "French"), ("nickname", "JD"),
     ("termsAcceptedAt", "2031-01-01T00:00:00Z")],
)
def test_bad_fields_are_named(client, clock, container, acme, field, value):
    response = sync_member(client, acme, clock.now(), **{**PROFILE, **TERMS, field: value})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert container.store.for_brand("acme").query_all("identity_keys") == []


def test_later_calls_update_only_the_synced_fields_given(client, clock, container, acme):
    member_id = sync_member(client, acme, clock.now(), **PROFILE, **TERMS).json()["memberId"]
    # What the member set in the App is theirs: SSO never touches it.
    store = container.store.for_brand("acme")
    member, etag = repository.get_member(store=store, member_id=member_id)
    changed = member.model_copy(update={"alias": "JD", "self_presentation": "Hi"})
    repository.save(store=store, container=repository.MEMBERS, model=changed, etag=etag)
    clock.advance(timedelta(days=1))
    response = sync_member(client, acme, clock.now(), ssoSubject="emp-42", lastName="Martin", role=4)
    assert response.status_code == 200
    assert response.json()["memberId"] == member_id
    member = stored(container, member_id)
    assert (member.first_name, member.last_name, member.role) == ("Jane", "Martin", 4)
    assert (member.alias, member.self_presentation) == ("JD", "Hi")
    assert member.email == "jane.doe@acme.example"
    assert member.popsell_terms.version == "2029-06"
    assert len(store.query_all("members")) == 1


def test_an_email_change_moves_the_unique_key(client, clock, container, acme):
    member_id = sync_member(client, acme, clock.now(), **PROFILE, **TERMS).json()["memberId"]
    clock.advance(timedelta(seconds=1))
    assert sync_member(client, acme, clock.now(), ssoSubject="emp-42", email="jane@new.example").status_code == 200
    store, hasher = container.store.for_brand("acme"), container.hasher("acme")
    assert repository.owner_of(store=store, kind="email", hashed=hasher("email", "jane.doe@acme.example")) is None
    assert repository.owner_of(store=store, kind="email", hashed=hasher("email", "jane@new.example")) == member_id


def test_an_email_another_member_holds_is_a_conflict(client, clock, container, acme):
    sync_member(client, acme, clock.now(), **PROFILE, **TERMS)
    response = sync_member(client, acme, clock.now(), **{**PROFILE, **TERMS, "ssoSubject": "emp-43",
                                                         "customerId": "C-2"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"
    store = container.store.for_brand("acme")
    assert len(store.query_all("members")) == 1
    # The refused subject left no key behind: it can be provisioned later with its own address.
    clock.advance(timedelta(seconds=1))
    again = sync_member(client, acme, clock.now(), **{**PROFILE, **TERMS, "ssoSubject": "emp-43",
                                                      "email": "other@acme.example", "customerId": "C-2"})
    assert again.status_code == 201


def test_the_same_subject_on_two_brands_is_two_members(client, clock, container, acme, globex):
    a = sync_member(client, acme, clock.now(), **PROFILE, **TERMS)
    b = sync_member(client, globex, clock.now(), **PROFILE, **TERMS)
    assert a.status_code == b.status_code == 201
    assert a.json()["memberId"] != b.json()["memberId"]


def test_delete_blocks_access_at_once_and_schedules_the_erasure_after_the_brands_delay(client, clock, container, acme):
    now = clock.now()
    login = client.post("/api/v1/app/acme/auth/sso",
                        json={"assertion": assertion(acme, "emp-42", now, **{k: v for k, v in PROFILE.items()
                                                                             if k != "ssoSubject"}, **TERMS)})
    assert login.status_code == 200, login.text
    token = login.json()["accessToken"]
    assert app_me(client, "acme", token).status_code == 200

    clock.advance(timedelta(minutes=1))
    deleted = signed_call(client, "DELETE", f"{sso_path('acme')}/emp-42", key=acme, now=clock.now())
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["status"] == "contract_ended"
    member = stored(container, login.json()["memberId"])
    assert member.status == "contract_ended"
    assert member.erasure_due_at == clock.now() + timedelta(days=3)
    # The access token is still within its 15 minutes, but the member no longer has access.
    me = app_me(client, "acme", token)
    assert me.status_code == 401
    # Neither does a new assertion log them in.
    again = client.post("/api/v1/app/acme/auth/sso", json={"assertion": assertion(acme, "emp-42", clock.now())})
    assert again.status_code == 401
    # The brand platform syncing it is told the account has ended.
    sync = sync_member(client, acme, clock.now(), ssoSubject="emp-42", lastName="Martin")
    assert sync.status_code == 409 and problem_type(sync) == "member-account-ended"
    # Deleting twice is harmless; an unknown subject is 404.
    clock.advance(timedelta(seconds=1))
    assert signed_call(client, "DELETE", f"{sso_path('acme')}/emp-42", key=acme, now=clock.now()).status_code == 200
    unknown = signed_call(client, "DELETE", f"{sso_path('acme')}/nobody", key=acme, now=clock.now())
    assert unknown.status_code == 404


def test_a_subject_with_reserved_characters_is_signed_as_routed(client, clock, acme):
    sync_member(client, acme, clock.now(), **{**PROFILE, **TERMS, "ssoSubject": "jane@acme"})
    response = signed_call(client, "DELETE", f"{sso_path('acme')}/jane%40acme", key=acme, now=clock.now(),
                           signed_path=f"{sso_path('acme')}/jane@acme")
    assert response.status_code == 200, response.text


# --- automatic login by assertion -------------------------------------------------------------------------------

def sso_login(client, token, brand="acme"):
    return client.post(f"/api/v1/app/{brand}/auth/sso", json={"assertion": token})


def provisioning_claims():
    return {**{k: v for k, v in PROFILE.items() if k != "ssoSubject"}, **TERMS}


def test_a_valid_assertion_provisions_and_opens_an_app_session(client, clock, container, acme):
    response = sso_login(client, assertion(acme, "emp-42", clock.now(), **provisioning_claims()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] is True and body["refreshToken"] and body["expiresIn"] == 900
    principal = container.tokens.verify(body["accessToken"], audience="app", now=clock.now())
    assert (principal.subject, principal.brand_id, principal.role) == (body["memberId"], "acme", 3)
    # Next time, the subject alone is enough: same member, activity recorded.
    clock.advance(timedelta(days=2))
    again = sso_login(client, assertion(acme, "emp-42", clock.now()))
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["memberId"] == body["memberId"]
    assert stored(container, body["memberId"]).last_activity_at == clock.now()


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("reused jti", "sso-assertion-replayed"),
        ("expired", "sso-assertion-expired"),
        ("too long-lived", "sso-assertion-invalid"),
        ("wrong audience", "sso-assertion-invalid"),
        ("other brand's key", "integration-unknown-key"),
        ("wrong secret", "sso-assertion-invalid"),
        ("garbage", "sso-assertion-invalid"),
    ],
)
def test_assertions_that_must_not_log_anyone_in(client, clock, container, acme, globex, case, problem):
    now = clock.now()
    claims = provisioning_claims()
    if case == "reused jti":
        token = assertion(acme, "emp-42", now, **claims)
        assert sso_login(client, token).status_code == 200
    elif case == "expired":
        token = assertion(acme, "emp-42", now - timedelta(minutes=3), **claims)
    elif case == "too long-lived":
        token = assertion(acme, "emp-42", now, ttl=timedelta(minutes=30), **claims)
    elif case == "wrong audience":
        token = sign_assertion(kid=acme.kid, secret=acme.secret, brand_id="acme", subject="emp-42", now=now,
                               audience="popsell:globex", claims=claims)
    elif case == "other brand's key":
        token = assertion(globex, "emp-42", now, **claims)
    elif case == "wrong secret":
        token = sign_assertion(kid=acme.kid, secret="a-guess-that-is-long-enough-for-hs256!", brand_id="acme",
                               subject="emp-42", now=now, claims=claims)
    else:
        token = "not.a.jwt"
    response = sso_login(client, token)
    assert response.status_code == 401
    assert problem_type(response) == problem
    if case != "reused jti":
        assert container.store.for_brand("acme").query_all("members") == []


def test_an_assertion_for_a_new_subject_without_terms_is_refused(client, clock, container, acme):
    claims = {k: v for k, v in provisioning_claims().items() if k not in TERMS}
    response = sso_login(client, assertion(acme, "emp-42", clock.now(), **claims))
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"termsAcceptedAt", "termsVersion"}
    assert container.store.for_brand("acme").query_all("members") == []

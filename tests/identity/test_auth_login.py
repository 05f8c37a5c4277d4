"""Password login, lockout, refresh rotation with reuse detection, logout, password reset."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from shared.identity import repository
from tests.identity.test_auth_support import (
    APP,
    BRAND,
    EMAIL,
    PASSWORD,
    drain_outbox,
    fast_bcrypt,  # noqa: F401 - a fixture, used by pytestmark
    link_token,
    login,
    make_brand,
    sign_up_and_verify,
)

pytestmark = pytest.mark.usefixtures("fast_bcrypt")


@pytest.fixture
def member(client, container):
    make_brand(container)
    sign_up_and_verify(client, container)
    store = container.store.for_brand(BRAND)
    return repository.owner_of(store=store, kind="email", hashed=container.hasher(BRAND)("email", EMAIL))


def _set_status(container, member_id, status):
    store = container.store.for_brand(BRAND)
    model, etag = repository.get_member(store=store, member_id=member_id)
    repository.save(store=store, container=repository.MEMBERS, model=model.model_copy(update={"status": status}),
                    etag=etag)


def test_login_gives_an_app_session_and_records_the_activity(client, container, member, clock):
    clock.advance(timedelta(days=3))
    response = login(client, email="Jane.Doe@Example.com", password=PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["memberId"] == member and body["expiresIn"] == 900 and body["refreshToken"]
    principal = container.tokens.verify(body["accessToken"], audience="app", now=clock.now())
    assert (principal.subject, principal.brand_id, principal.role) == (member, BRAND, 0)
    store = container.store.for_brand(BRAND)
    assert repository.get_member(store=store, member_id=member)[0].last_activity_at == clock.now()
    [record] = [r for r in store.query_all("activity_log", pk=f"{BRAND}|{member}") if r["method"] == "password"]
    assert record["ipHash"] and record["userAgentHash"] and record["ttl"] == 365 * 86400
    assert "testclient" not in str(record)


@pytest.mark.parametrize(
    ("email", "password"), [(EMAIL, "wrong password!"), ("nobody@example.com", PASSWORD)]
)
def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, member, email, password):
    response = login(client, email=email, password=password)
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-credentials")


@pytest.mark.parametrize(("status", "code"), [("blocked", 401), ("unsubscribed", 401), ("contract_ended", 401),
                                              ("pending_verification", 403)])
def test_only_active_members_log_in(client, container, member, status, code):
    _set_status(container, member, status)
    response = login(client)
    assert response.status_code == code
    if code == 401:
        assert response.json()["type"].endswith("/invalid-credentials")


def test_five_failures_lock_the_account_for_fifteen_minutes(client, member, clock):
    for _ in range(5):
        assert login(client, password="wrong password!").status_code == 401
    locked = login(client)  # even the right password waits
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == 900
    clock.advance(timedelta(minutes=10))
    assert int(login(client).headers["Retry-After"]) == 300
    clock.advance(timedelta(minutes=5))
    assert login(client).status_code == 200


def test_failures_spread_beyond_the_window_do_not_lock(client, member, clock):
    for _ in range(4):
        login(client, password="wrong password!")
    clock.advance(timedelta(minutes=16))
    for _ in range(4):
        assert login(client, password="wrong password!").status_code == 401
    assert login(client).status_code == 200


def test_one_ip_guessing_many_accounts_is_locked(client, container, member):
    for index in range(20):
        login(client, email=f"guess{index}@example.com", password="wrong password!")
    response = login(client)
    assert response.status_code == 429


def test_refresh_rotates_and_a_reused_token_ends_the_session(client, member):
    first = login(client).json()
    second = client.post(f"{APP}/refresh", json={"refreshToken": first["refreshToken"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refreshToken"] != first["refreshToken"]
    # The old token again: theft suspected, the whole family ends (the rotated token too).
    reuse = client.post(f"{APP}/refresh", json={"refreshToken": first["refreshToken"]})
    assert reuse.status_code == 401
    assert client.post(f"{APP}/refresh", json={"refreshToken": rotated["refreshToken"]}).status_code == 401
    # Another session of the same member is unaffected.
    other = login(client).json()
    assert client.post(f"{APP}/refresh", json={"refreshToken": other["refreshToken"]}).status_code == 200


def test_refresh_tokens_expire_after_thirty_days(client, member, clock):
    session = login(client).json()
    clock.advance(timedelta(days=30, seconds=1))
    assert client.post(f"{APP}/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401


def test_a_blocked_member_cannot_refresh(client, container, member):
    session = login(client).json()
    _set_status(container, member, "blocked")
    assert client.post(f"{APP}/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401


def test_refresh_tokens_do_not_cross_brands(client, container, member):
    make_brand(container, "globex")
    session = login(client).json()
    response = client.post("/api/v1/app/globex/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert response.status_code == 401


def test_logout_ends_the_session(client, member):
    session = login(client).json()
    assert client.post(f"{APP}/logout", json={"refreshToken": session["refreshToken"]}).status_code == 204
    assert client.post(f"{APP}/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert client.post(f"{APP}/logout", json={"refreshToken": "unknown"}).status_code == 204


def test_password_reset_sets_a_new_password_and_ends_every_session(client, container, member, clock):
    session = login(client).json()
    drain_outbox(container)
    for address in (EMAIL, "nobody@example.com"):  # the same answer for any address
        response = client.post(f"{APP}/password-reset/request", json={"email": address})
        assert response.status_code == 202
    [mail] = drain_outbox(container)[:1]
    assert mail["template"] == "password_reset" and mail["toEmail"] == EMAIL
    assert len([m for m in drain_outbox(container) if m["template"] == "password_reset"]) == 1
    token = link_token(mail)
    weak = client.post(f"{APP}/password-reset/confirm", json={"token": token, "newPassword": "short"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    new = "a brand new passphrase"
    assert client.post(f"{APP}/password-reset/confirm", json={"token": token, "newPassword": new}).status_code == 204
    assert client.post(f"{APP}/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert login(client).status_code == 401
    assert login(client, password=new).status_code == 200
    again = client.post(f"{APP}/password-reset/confirm", json={"token": token, "newPassword": "yet another one"})
    assert again.status_code == 410


def test_a_reset_link_lasts_one_hour(client, container, member, clock):
    client.post(f"{APP}/password-reset/request", json={"email": EMAIL})
    token = link_token(drain_outbox(container)[0])
    clock.advance(timedelta(hours=1, seconds=1))
    response = client.post(f"{APP}/password-reset/confirm", json={"token": token, "newPassword": "a new passphrase"})
    assert response.status_code == 410


def test_no_email_address_password_or_token_in_the_logs(client, container, caplog):
    make_brand(container)
    with caplog.at_level(logging.DEBUG):
        sign_up_and_verify(client, container)
        session = login(client).json()
        login(client, password="wrong password!")
        client.post(f"{APP}/refresh", json={"refreshToken": session["refreshToken"]})
        client.post(f"{APP}/password-reset/request", json={"email": EMAIL})
        drain_outbox(container)
    text = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (EMAIL, "jane.doe", PASSWORD, "wrong password!", session["refreshToken"], "testclient"):
        assert secret not in text


def test_a_password_reset_ends_the_access_tokens_issued_before_it(client, container, member):
    me = f"/api/v1/app/{BRAND}/me"
    before = login(client).json()["accessToken"]
    assert client.get(me, headers={"Authorization": f"Bearer {before}"}).status_code == 200
    client.post(f"{APP}/password-reset/request", json={"email": EMAIL})
    token = link_token([m for m in drain_outbox(container) if m["template"] == "password_reset"][0])
    new = "a brand new passphrase"
    assert client.post(f"{APP}/password-reset/confirm", json={"token": token, "newPassword": new}).status_code == 204
    # The same second as the login (the clock stands still): the epoch, not a timestamp, tells them apart.
    refused = client.get(me, headers={"Authorization": f"Bearer {before}"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    after = login(client, password=new).json()["accessToken"]
    assert client.get(me, headers={"Authorization": f"Bearer {after}"}).status_code == 200


def test_an_access_token_without_an_epoch_counts_as_the_first_one(client, container, member, clock):
    me = f"/api/v1/app/{BRAND}/me"
    legacy = container.tokens.issue(subject=member, audience="app", brand_id=BRAND, now=clock.now(),
                                    ttl=timedelta(minutes=15), role=0)
    assert client.get(me, headers={"Authorization": f"Bearer {legacy}"}).status_code == 200

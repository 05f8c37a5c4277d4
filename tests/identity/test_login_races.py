"""The lockout holds under parallel guesses: each attempt is reserved before its bcrypt check, none goes uncounted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.errors import RateLimited
from shared.identity import manager_users, throttle
from shared.ports.store import EtagMismatch
from tests.identity.test_auth_support import BRAND, PASSWORD, login, make_brand, sign_up_and_verify

GUESSES = 40
MANAGER_LOGIN = f"/api/v1/manager/brands/{BRAND}/auth/login"


def _in_parallel(send, count=GUESSES):
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: send(), range(count)))


def _assert_locked_out(responses):
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(401) <= throttle.ACCOUNT_POLICY.max_failures
    assert set(statuses) <= {401, 429}
    assert statuses.count(429) >= GUESSES - throttle.ACCOUNT_POLICY.max_failures
    assert all(int(r.headers["Retry-After"]) > 0 for r in responses if r.status_code == 429)


@pytest.fixture
def member(client, container):
    """A verified member whose password hash has the real cost: each check takes a bcrypt's time."""
    make_brand(container)
    sign_up_and_verify(client, container)


def test_parallel_wrong_passwords_get_at_most_five_checks_then_the_right_one_waits(client, member):
    _assert_locked_out(_in_parallel(lambda: login(client, password="wrong password!")))
    right = login(client)
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) == 900


def test_parallel_wrong_passwords_lock_a_manager_account_too(client, container):
    make_brand(container)
    manager_users.create_active(store=container.store.for_brand(BRAND), hasher=container.hasher(BRAND),
                                email="eve@example.com", level="admin", now=container.clock.now(), password=PASSWORD)
    guess = {"email": "eve@example.com", "password": "wrong password!"}
    _assert_locked_out(_in_parallel(lambda: client.post(MANAGER_LOGIN, json=guess)))
    right = client.post(MANAGER_LOGIN, json={"email": "eve@example.com", "password": PASSWORD})
    assert right.status_code == 429


def test_concurrent_failures_all_count(container, clock):
    store = container.store.for_brand(BRAND)
    roomy = throttle.Limit("test:key", throttle.ThrottlePolicy(max_failures=1000))

    def fail_once():
        throttle.reserve(store=store, limits=[roomy], now=clock.now()).failed()

    _in_parallel(fail_once, count=30)
    doc = store.get(throttle.CONTAINER, "test:key")
    assert (doc["failures"], doc["attempts"]) == (30, 30)


def test_concurrent_successes_give_the_shared_ip_its_attempts_back(container, clock):
    store = container.store.for_brand(BRAND)
    shop_ip = throttle.Limit("test:ip", throttle.IP_POLICY)

    def succeed_once():
        throttle.reserve(store=store, limits=[shop_ip], now=clock.now()).succeeded()

    _in_parallel(succeed_once, count=30)  # more than the IP's 20: successes never fill it
    assert store.get(throttle.CONTAINER, "test:ip")["attempts"] == 0
    throttle.reserve(store=store, limits=[shop_ip], now=clock.now())


def test_a_counter_that_cannot_be_written_refuses_instead_of_letting_the_attempt_through(client, container,
                                                                                        member, clock, monkeypatch):
    assert login(client, password="wrong password!").status_code == 401
    clock.advance(timedelta(minutes=16))  # the next attempt opens a fresh window: an etag replace

    def always_lose(self, container_name, doc, *, etag=None):
        raise EtagMismatch()  # another writer wins every round

    monkeypatch.setattr(type(container.store.for_brand(BRAND)), "replace", always_lose)
    response = login(client)  # the right password, yet it is not checked uncounted
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "accessToken" not in response.json()
    monkeypatch.undo()
    assert login(client).status_code == 200  # the store is back: the same login goes through


def test_a_refused_attempt_is_not_counted_on_the_other_keys(container, clock):
    store = container.store.for_brand(BRAND)
    account = throttle.Limit("test:account", throttle.ThrottlePolicy(max_failures=1))
    ip = throttle.Limit("test:ip2", throttle.IP_POLICY)
    throttle.reserve(store=store, limits=[account, ip], now=clock.now()).failed()
    for _ in range(3):
        with pytest.raises(RateLimited):
            throttle.reserve(store=store, limits=[account, ip], now=clock.now())
    assert store.get(throttle.CONTAINER, "test:ip2")["attempts"] == 1


def test_parallel_failures_on_many_accounts_all_count_on_the_shared_ip(client, member):
    guesses = iter(range(GUESSES))
    responses = _in_parallel(lambda: login(client, email=f"guess{next(guesses)}@example.com",
                                           password="wrong password!"))
    assert sorted({r.status_code for r in responses}) in ([401], [401, 429])
    assert [r.status_code for r in responses].count(401) <= throttle.IP_POLICY.max_failures
    assert login(client).status_code == 429  # the IP reached its 20 failures: none was lost

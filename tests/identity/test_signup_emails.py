"""Signup emails: limited per address under parallel requests, and a member only with its first email."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.emails import service as email_service
from shared.emails.render import TemplateDataError
from shared.errors import TransientError
from shared.identity import signup, throttle
from tests.identity.test_auth_support import (
    APP,
    BRAND,
    EMAIL,
    PROBLEM,
    drain_outbox,
    fast_bcrypt,  # noqa: F401 - a fixture, used by pytestmark
    link_token,
    make_brand,
    signup_body,
)

pytestmark = pytest.mark.usefixtures("fast_bcrypt")
PARALLEL = 20


def _in_parallel(send):
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda _: send(), range(PARALLEL)))


def _verifications(container) -> list[dict]:
    return [mail for mail in drain_outbox(container) if mail["template"] == "email_verification"]


def _written(container) -> dict[str, int]:
    store = container.store.for_brand(BRAND)
    return {name: len(store.query_all(name)) for name in ("members", "identity_keys", "action_tokens")}


def test_parallel_signups_for_one_address_send_at_most_two_emails(client, container):
    make_brand(container)
    responses = _in_parallel(lambda: client.post(f"{APP}/signup", json=signup_body()))
    assert {(r.status_code, r.text) for r in responses} == {(responses[0].status_code, responses[0].text)}
    assert responses[0].status_code == 202
    assert 1 <= len(_verifications(container)) <= 2
    assert _written(container)["members"] == 1


def test_parallel_resends_send_one_more_email_at_most(client, container):
    make_brand(container)
    client.post(f"{APP}/signup", json=signup_body())
    assert len(_verifications(container)) == 1
    responses = _in_parallel(lambda: client.post(f"{APP}/verify-email/resend", json={"email": EMAIL}))
    assert {r.status_code for r in responses} == {202}
    assert len(_verifications(container)) == 2  # the first one, and one resend


def test_the_first_verification_email_is_always_sent(client, container, clock):
    make_brand(container)
    # The address's resend limit is spent already (say, an earlier account of this address).
    limit = throttle.Limit(f"verify-mail:{container.hasher(BRAND)('email', EMAIL)}", signup.VERIFY_AGAIN_POLICY)
    throttle.count(store=container.store.for_brand(BRAND), limits=[limit], now=clock.now())
    assert client.post(f"{APP}/signup", json=signup_body()).status_code == 202
    assert len(_verifications(container)) == 1


def test_an_address_the_email_cannot_go_to_is_refused_and_nothing_is_written(client, container):
    make_brand(container)
    response = client.post(f"{APP}/signup", json=signup_body(email="\x1f@example.com"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == ["email"]
    assert _written(container) == {"members": 0, "identity_keys": 0, "action_tokens": 0}
    assert drain_outbox(container) == []


def test_a_signup_whose_email_cannot_be_rendered_writes_nothing(client, container, monkeypatch):
    make_brand(container)

    def broken_template(**_):
        raise TemplateDataError("template 'email_verification' (en): UndefinedError")

    monkeypatch.setattr(email_service, "render_email", broken_template)
    response = client.post(f"{APP}/signup", json=signup_body(customerId="C-1"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert _written(container) == {"members": 0, "identity_keys": 0, "action_tokens": 0}
    monkeypatch.undo()
    assert client.post(f"{APP}/signup", json=signup_body(customerId="C-1")).status_code == 202
    assert len(_verifications(container)) == 1


def test_a_signup_whose_email_cannot_be_queued_is_undone_and_can_be_retried(client, container, monkeypatch):
    make_brand(container)

    def queue_down(queue, messages):
        raise TransientError("the emails queue is not reachable")

    monkeypatch.setattr(container.bus, "send", queue_down)
    response = client.post(f"{APP}/signup", json=signup_body(customerId="C-1"))
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert _written(container) == {"members": 0, "identity_keys": 0, "action_tokens": 0}
    monkeypatch.undo()
    # The retry is a new signup, not a "known address": it gets its first link at once.
    assert client.post(f"{APP}/signup", json=signup_body(customerId="C-1")).status_code == 202
    [mail] = _verifications(container)
    assert client.post(f"{APP}/verify-email", json={"token": link_token(mail)}).status_code == 200
    assert _written(container)["identity_keys"] == 2  # the email and the customer id, once each

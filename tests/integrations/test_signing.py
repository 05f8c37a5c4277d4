"""Signed brand-platform requests: only a fresh, untampered request signed by the path brand's key gets in, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.integrations import signing
from shared.integrations.errors import BadSignature, SignatureMissing, StaleRequest, UnknownKey
from tests.integrations.brand_platform import TERMS, Key, create_brand, problem_type, signed_call, sso_path

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
BODY = b'{"ssoSubject": "u-1"}'
PATH = "/api/v1/integrations/acme/sso/members"


def test_the_signed_string_is_timestamp_method_path_and_body_digest():
    assert signing.string_to_sign(timestamp=1893488400, method="post", path=PATH, body=b"{}") == (
        f"1893488400.POST.{PATH}.44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


def _verify(**overrides):
    headers = signing.signed_headers(kid="k1", secret="s3cret", method="POST", path=PATH, body=BODY, now=NOW)
    arguments = dict(keys={"k1": "s3cret"}, kid=headers[signing.HEADER_KEY_ID],
                     timestamp=headers[signing.HEADER_TIMESTAMP], signature=headers[signing.HEADER_SIGNATURE],
                     method="POST", path=PATH, body=BODY, now=NOW)
    arguments.update(overrides)
    return signing.verify(**arguments)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, None),
        ({"now": NOW + timedelta(minutes=5)}, None),
        ({"now": NOW - timedelta(minutes=5)}, None),
        ({"now": NOW + timedelta(minutes=5, seconds=1)}, StaleRequest),
        ({"now": NOW - timedelta(minutes=5, seconds=1)}, StaleRequest),
        ({"keys": {"k1": "another secret"}}, BadSignature),
        ({"keys": {"k2": "s3cret"}}, UnknownKey),
        ({"body": b'{"ssoSubject": "u-2"}'}, BadSignature),
        ({"path": "/api/v1/integrations/acme/sso/members/u-1"}, BadSignature),
        ({"method": "DELETE"}, BadSignature),
        ({"signature": None}, SignatureMissing),
        ({"timestamp": "soon"}, SignatureMissing),
    ],
)
def test_verify_rule(overrides, error):
    if error is None:
        assert _verify(**overrides) == int(NOW.timestamp())
    else:
        with pytest.raises(error):
            _verify(**overrides)


@pytest.fixture
def keys(client, manager_token):
    return create_brand(client, manager_token, "acme"), create_brand(client, manager_token, "globex")


def member(subject="u-1"):
    return {"ssoSubject": subject, "email": f"{subject}@example.com", "role": 1, **TERMS}


def _send(client, clock, acme, globex, case):
    now = clock.now()
    path = sso_path("acme")
    if case == "good":
        return signed_call(client, "POST", path, key=acme, now=now, body=member())
    if case == "wrong secret":
        return signed_call(client, "POST", path, key=acme, now=now, body=member(), secret="not-the-secret")
    if case == "other brand's key":
        return signed_call(client, "POST", path, key=globex, now=now, body=member())
    if case == "stale":
        return signed_call(client, "POST", path, key=acme, now=now - timedelta(minutes=6), body=member())
    if case == "future":
        return signed_call(client, "POST", path, key=acme, now=now + timedelta(minutes=6), body=member())
    if case == "tampered body":
        return signed_call(client, "POST", path, key=acme, now=now, body=member(),
                           signed_body=b'{"ssoSubject": "someone-else"}')
    if case == "tampered path":
        return signed_call(client, "POST", path, key=acme, now=now, body=member(),
                           signed_path=sso_path("globex"))
    if case == "unsigned":
        return client.post(path, json=member())
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "status", "problem"),
    [
        ("good", 201, None),
        ("wrong secret", 401, "integration-bad-signature"),
        ("other brand's key", 401, "integration-unknown-key"),
        ("stale", 401, "integration-stale-request"),
        ("future", 401, "integration-stale-request"),
        ("tampered body", 401, "integration-bad-signature"),
        ("tampered path", 401, "integration-bad-signature"),
        ("unsigned", 401, "integration-signature-missing"),
    ],
)
def test_signed_requests_over_http(client, clock, keys, container, case, status, problem):
    response = _send(client, clock, *keys, case)
    assert response.status_code == status, response.text
    if problem:
        assert problem_type(response) == problem
        # Nothing that helps an attacker: one generic sentence whatever failed.
        assert response.json()["detail"] == "The request could not be authenticated"
        assert container.store.for_brand("acme").query_all("members") == []


def test_a_signature_is_accepted_once(client, clock, keys):
    acme, _ = keys
    now = clock.now()
    first = signed_call(client, "POST", sso_path("acme"), key=acme, now=now, body=member())
    assert first.status_code == 201
    replay = signed_call(client, "POST", sso_path("acme"), key=acme, now=now, body=member())
    assert replay.status_code == 401
    assert problem_type(replay) == "integration-replayed-request"
    # The same content signed a second later is a new request.
    clock.advance(timedelta(seconds=1))
    again = signed_call(client, "POST", sso_path("acme"), key=acme, now=clock.now(), body=member())
    assert again.status_code == 200


def test_a_revoked_key_no_longer_signs(client, clock, keys, manager_token):
    acme, _ = keys
    created = client.post("/api/v1/manager/brands/acme/integration-keys", headers=manager_token("admin", "acme"))
    assert created.status_code == 201
    new_key = Key("acme", created.json()["kid"], created.json()["secret"])
    revoked = client.delete(f"/api/v1/manager/brands/acme/integration-keys/{acme.kid}",
                            headers=manager_token("admin", "acme"))
    assert revoked.status_code in (200, 204)
    response = signed_call(client, "POST", sso_path("acme"), key=acme, now=clock.now(), body=member())
    assert problem_type(response) == "integration-unknown-key"
    assert signed_call(client, "POST", sso_path("acme"), key=new_key, now=clock.now(), body=member()).status_code == 201


def test_an_ended_programme_accepts_no_signed_call(client, clock, keys, manager_token):
    acme, _ = keys
    ended = client.put("/api/v1/manager/brands/acme/status", json={"status": "contract_ended"},
                       headers=manager_token("operator"))
    assert ended.status_code == 200
    response = signed_call(client, "POST", sso_path("acme"), key=acme, now=clock.now(), body=member())
    assert response.status_code == 401


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda good: good.upper(), id="uppercase"),
        pytest.param(lambda good: f" {good}", id="leading space"),
        pytest.param(lambda good: f"{good} ", id="trailing space"),
        pytest.param(lambda good: f"{good}\xa0", id="trailing no-break space"),
        pytest.param(lambda good: good[:-1], id="too short"),
        pytest.param(lambda good: good + "0", id="too long"),
        pytest.param(lambda good: good[:-1] + "é", id="non-ascii"),
    ],
)
def test_only_the_exact_lowercase_hex_signature_verifies(signature):
    good = signing.sign(secret="s3cret", timestamp=int(NOW.timestamp()), method="POST", path=PATH, body=BODY)
    with pytest.raises(BadSignature):
        _verify(signature=signature(good))


def _raw_signed(key, now, body):
    """The body and headers of a signed request, headers as bytes so a test can append any byte."""
    raw = json.dumps(body).encode()
    headers = signing.signed_headers(kid=key.kid, secret=key.secret, method="POST", path=sso_path(key.brand_id),
                                     body=raw, now=now)
    return raw, {name: value.encode() for name, value in headers.items()} | {"Content-Type": b"application/json"}


@pytest.mark.parametrize("suffix", [b"\xa0", b"\x85", b"\x1c", b"\x1f"])
def test_a_replay_with_a_trailing_odd_byte_is_refused(client, clock, keys, container, suffix):
    acme, _ = keys
    raw, headers = _raw_signed(acme, clock.now(), member())
    assert client.post(sso_path("acme"), content=raw, headers=headers).status_code == 201
    headers[signing.HEADER_SIGNATURE] += suffix
    replay = client.post(sso_path("acme"), content=raw, headers=headers)
    assert replay.status_code == 401
    assert problem_type(replay) in ("integration-bad-signature", "integration-replayed-request")
    assert len(container.store.for_brand("acme").query_all("members")) == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda good: good.upper(), id="uppercase"),
        pytest.param(lambda good: good + b" ", id="padded"),
        pytest.param(lambda good: good[:-1] + "é".encode(), id="e-acute"),
        pytest.param(lambda good: good[:-3] + "\u202e".encode(), id="right-to-left override"),
        pytest.param(lambda good: "é".encode() * 32, id="all non-ascii, 64 bytes"),
    ],
)
def test_an_odd_signature_header_is_a_401_never_a_500(client, clock, keys, container, forge):
    acme, _ = keys
    raw, headers = _raw_signed(acme, clock.now(), member())
    headers[signing.HEADER_SIGNATURE] = forge(headers[signing.HEADER_SIGNATURE])
    response = client.post(sso_path("acme"), content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_type(response) == "integration-bad-signature"
    assert container.store.for_brand("acme").query_all("members") == []

"""Every HMAC-checked value refuses odd text with its usual 4xx problem, never a 500."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from shared.crm import unsubscribe
from shared.macs import mac_matches
from shared.tracking import reference
from tests.builders import running_app
from tests.identity.test_auth_support import make_brand

PROBLEM = "application/problem+json"
ODD = ["é", "\u202e", "\u0000", "\u00a0"]


@pytest.mark.parametrize(
    ("supplied", "expected", "matches"),
    [
        ("ab12", "ab12", True),
        (b"ab12", "ab12", True),
        ("AB12", "ab12", False),
        ("ab12 ", "ab12", False),
        ("ab1é", "ab12", False),
        ("\u202eab1", "ab12", False),
        (None, "ab12", False),
        ("", "ab12", False),
    ],
)
def test_a_mac_matches_only_itself(supplied, expected, matches):
    assert mac_matches(supplied, expected) is matches


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unsubscribe_token_with_odd_text_is_a_404(client, container, odd, method):
    make_brand(container)
    good = unsubscribe.make_token(container.settings, brand_id="acme", contact_id="c1", member_id="m1")
    body, _, signature = good.partition(".")
    for token in (f"{body}.{signature[:-1]}{odd}", f"{body}.{odd}", f"{odd}.{signature}"):
        response = client.request(method, f"/api/v1/app/acme/unsubscribe/{quote(token)}")
        assert response.status_code == 404, token
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("odd", ODD)
def test_a_signed_file_url_with_odd_text_is_a_404(client, container, odd):
    container.blobs.put("exports", "acme/file.json", b"{}", content_type="application/json")
    url = urlsplit(container.blobs.signed_url("exports", "acme/file.json", expires_in=timedelta(hours=1)))
    query = parse_qs(url.query)
    expires, sig = query["expires"][0], query["sig"][0]
    assert client.get(url.path, params={"expires": expires, "sig": sig}).status_code == 200
    for forged in ({"expires": expires, "sig": sig[:-1] + odd}, {"expires": expires, "sig": odd * 64},
                   {"expires": expires + odd, "sig": sig}):
        response = client.get(url.path, params=forged)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("odd", ODD)
def test_an_attribution_reference_with_odd_text_is_ignored(container, odd):
    good = reference.sign(container.settings.hash_master_key, "acme", code="abcd", click_id="click1234",
                          clicked_at=container.clock.now())
    assert reference.verify(container.settings.hash_master_key, "acme", good) is not None
    assert reference.verify(container.settings.hash_master_key, "acme", good[:-1] + odd) is None


@pytest.fixture
def hook_client(container):
    container.settings = container.settings.model_copy(update={"mailjet_webhook_secret": "s3cret-webhook"})
    with running_app(container) as test_client:
        yield test_client


@pytest.mark.parametrize("odd", ODD)
def test_mailjet_credentials_with_odd_text_are_a_401(hook_client, odd):
    for header in ("Basic " + base64.b64encode(f"mailjet:s3cret-webhoo{odd}".encode()).decode(),
                   f"Basic {odd}", "Basic " + base64.b64encode(b"mailjet:s3cret-webhook").decode() + odd):
        response = hook_client.post("/api/v1/webhooks/mailjet", json=[],
                                    headers={"Authorization": header.encode("utf-8")})
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM

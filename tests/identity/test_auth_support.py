"""Helpers shared by the member-authentication tests (no tests here)."""

from __future__ import annotations

import re

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from tests.builders import sent_emails

BRAND = "acme"
EMAIL = "jane.doe@example.com"
PASSWORD = "correct horse battery"
APP = f"/api/v1/app/{BRAND}/auth"
PROBLEM = "application/problem+json"


@pytest.fixture
def fast_bcrypt(monkeypatch):
    """bcrypt at its lowest cost: these tests check behaviour, the benchmark checks the real cost."""
    from shared.identity import passwords

    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)


def make_brand(container, brand_id: str = BRAND, **settings):
    """A brand with the guide's defaults, plus any settings given (camelCase)."""
    brand, _ = brands.create(store=container.store, clock=container.clock,
                             data=BrandCreate.model_validate({"id": brand_id, "name": "Acme", **settings}))
    return brand


def signup_body(**overrides) -> dict:
    body = {"email": EMAIL, "password": PASSWORD, "firstName": "Jane", "lastName": "Doe", "acceptTerms": True,
            "termsVersion": "2030-01"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def drain_outbox(container, brand_id: str = BRAND) -> list[dict]:
    """Run the email queue until empty and return the brand's outbox, newest first."""
    return sent_emails(container, brand_id)


def link_token(email: dict) -> str:
    """The token of the single-use link in an email's text."""
    match = re.search(r"#token=([A-Za-z0-9_-]+)", email["text"])
    assert match, "no link in the email"
    return match.group(1)


def sign_up_and_verify(client, container, email: str = EMAIL, password: str = PASSWORD) -> None:
    """A member who signed up and followed the link."""
    assert client.post(f"{APP}/signup", json=signup_body(email=email, password=password)).status_code == 202
    [mail] = [m for m in drain_outbox(container) if m["toEmail"] == email and m["template"] == "email_verification"][:1]
    assert client.post(f"{APP}/verify-email", json={"token": link_token(mail)}).status_code == 200


def login(client, email: str = EMAIL, password: str = PASSWORD):
    return client.post(f"{APP}/login", json={"email": email, "password": password})

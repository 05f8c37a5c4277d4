"""A brand with a widget origin and a privacy policy, a member whose pop-in posts, and helpers to read what followed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from popsell.registry import queue_handlers
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.messaging import worker
from shared.ports.bus import QUEUE_EMAILS
from tests.builders import deliver_emails
from tests.identity.test_profile_api import add_member, app_headers

BRAND = "acme"
ORIGIN = "https://shop.acme.example"
POLICY = "https://www.acme.example/privacy"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CAPTURE = f"/api/v1/widget/{BRAND}/members/m1/capture"
CONFIRM = f"/api/v1/app/{BRAND}/capture/confirm"
TEMPLATE = "contact_confirmation"


@dataclass
class Shop:
    """The brand's site posting a member's pop-in, and what the member, the brand and the outbox then see."""

    client: Any
    container: Any
    member: Any
    manager_token: Any

    def submit(self, email: str = "zoe@example.com", *, headers: dict[str, str] | None = None, **fields: Any):
        body = {"form": "blog_popin", "email": email, "firstName": "Zoe", "memberOptIn": True,
                "consentTextVersion": "popin-2030-01", "privacyPolicyUrl": POLICY, **fields}
        sent = {"Origin": ORIGIN, "User-Agent": BROWSER} if headers is None else headers
        return self.client.post(CAPTURE, json=body, headers=sent)

    def confirm(self, token: str):
        return self.client.post(CONFIRM, json={"token": token})

    def mails(self) -> list[dict]:
        """The confirmation emails sent so far (the emails queue drained first), oldest first."""
        handler = queue_handlers(self.container)[QUEUE_EMAILS]
        while worker.process_once(self.container.bus, QUEUE_EMAILS, handler):
            pass
        newest_first = self.container.mailer.list(brand_id=BRAND, limit=500)
        return [mail for mail in reversed(newest_first) if mail["template"] == TEMPLATE]

    def tokens(self) -> list[str]:
        return [token_of(mail) for mail in self.mails()]

    def member_sees(self) -> list[dict]:
        # Tokens issued at the clock's time: a test may have moved it days on.
        response = self.client.get(f"/api/v1/app/{BRAND}/contacts", headers=app_headers(self.container, self.member))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def brand_sees(self) -> list[dict]:
        response = self.client.get(f"/api/v1/manager/brands/{BRAND}/contacts",
                                   headers=self.manager_token("viewer", BRAND))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def stored(self) -> list[dict]:
        return [doc for doc in self.container.store.for_brand(BRAND).query_all("contacts") if doc["memberId"] == "m1"]

    def advance(self, days: int) -> None:
        assert self.client.post("/api/v1/dev/clock/advance", json={"days": days}).status_code == 200

    def run_retention(self) -> dict:
        response = self.client.post("/api/v1/dev/timers/retention_contacts/run")
        assert response.status_code == 200, response.text
        assert response.json()["failedBrands"] == []
        return response.json()


def external_form(client, container, member_id: str, email: str, **ticks: Any) -> None:
    """A person leaves their address on the brand's Popsell external form and confirms it from the email
    (the brand: BRAND, with ORIGIN among its widget origins and POLICY as its privacy policy)."""
    body = {"form": "external_form", "firstName": "Zoe", "email": email, "memberOptIn": False,
            "consentTextVersion": "form-1", "privacyPolicyUrl": POLICY, **ticks}
    response = client.post(f"/api/v1/widget/{BRAND}/members/{member_id}/capture", json=body,
                           headers={"Origin": ORIGIN, "User-Agent": BROWSER})
    assert response.status_code == 202, response.text
    deliver_emails(container)
    [mail] = [mail for mail in container.mailer.list(brand_id=BRAND, limit=500)
              if mail["template"] == TEMPLATE and mail["toEmail"] == email]
    assert client.post(CONFIRM, json={"token": token_of(mail)}).status_code == 200


def token_of(mail: dict) -> str:
    text = mail.get("text") or str(mail)
    [token] = re.findall(r"/capture/confirm#token=([A-Za-z0-9_\-]+)", text)
    return token


@pytest.fixture
def shop(client, container, manager_token) -> Shop:
    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate({
        "id": BRAND, "name": "Acme", "widgetAllowedOrigins": [ORIGIN], "privacyPolicyUrl": POLICY}))
    member = add_member(container)
    add_member(container, member_id="m-hidden", visibility={"hideFromCommunity": True})
    return Shop(client=client, container=container, member=member, manager_token=manager_token)

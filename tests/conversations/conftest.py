"""A brand with available members (App tokens) and visitors (widget tokens) for the conversation tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from shared.identity.models import Role
from tests.identity.test_profile_api import add_member, app_headers, make_brands
from tests.sales.conftest import shop  # noqa: F401 (fixture: the brand platform, for attribution tests)

BRAND, OTHER = "acme", "globex"
APP = f"/api/v1/app/{BRAND}"
WIDGET = f"/api/v1/widget/{BRAND}"
POLICY = {"acceptWidgetPolicy": True, "widgetPolicyVersion": "2030-01"}
SERVICE_TERMS = {"acceptServiceTerms": True, "serviceTermsVersion": "svc-3"}


@dataclass
class Chat:
    client: object
    container: object

    def member(self, member_id: str = "m1", availability: str = "online", brand_id: str = BRAND) -> dict[str, str]:
        member = add_member(self.container, brand_id=brand_id, member_id=member_id, role=Role.VENDOR,
                            availability=availability)
        return app_headers(self.container, member, brand_id=brand_id, ttl=timedelta(hours=2))

    def visitor(self, *, terms: bool = True, brand_id: str = BRAND) -> dict[str, str]:
        answer = self.client.post(f"/api/v1/widget/{brand_id}/visitors", json={**POLICY, **(SERVICE_TERMS if terms
                                                                                            else {})})
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['accessToken']}"}

    def request(self, visitor: dict[str, str], **context) -> dict:
        answer = self.client.post(f"{WIDGET}/conversations/requests", headers=visitor, json={"context": context})
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture
def chat(client, container, manager_token) -> Chat:
    make_brands(client, manager_token, BRAND, OTHER)
    return Chat(client, container)

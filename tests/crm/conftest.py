"""Campaign fixtures shared by the campaign and brand-template tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from tests.crm.capture_world import shop  # noqa: F401 - the pop-in tests' fixture
from tests.identity.test_profile_api import add_member, app_headers

BRAND = "acme"


@pytest.fixture
def cp_client(container):
    from functions.http_api import app as app_module

    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": BRAND, "name": "Acme", "manualContactEntry": True, "allowedDomains": ["acme.example"]}))
    with TestClient(app_module.create_app(container.settings)) as test_client:
        yield test_client


@pytest.fixture
def members(container, cp_client):
    return {member_id: app_headers(container, add_member(container, member_id=member_id))
            for member_id in ("m1", "m2")}

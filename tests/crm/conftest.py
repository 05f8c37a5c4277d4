"""Campaign fixtures shared by the campaign and brand-template tests."""

from __future__ import annotations

import pytest

from tests.builders import add_brand, running_app
from tests.crm.capture_world import shop  # noqa: F401 - the pop-in tests' fixture
from tests.identity.test_profile_api import add_member, app_headers

BRAND = "acme"


@pytest.fixture
def cp_client(container):
    add_brand(container, BRAND, "Acme", manualContactEntry=True, allowedDomains=["acme.example"])
    with running_app(container) as test_client:
        yield test_client


@pytest.fixture
def members(container, cp_client):
    return {member_id: app_headers(container, add_member(container, member_id=member_id))
            for member_id in ("m1", "m2")}

"""The `shop` fixture: a brand platform posting orders (see tests/sales/shop.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.identity.models import Role
from tests.identity.test_profile_api import add_member
from tests.integrations.brand_platform import create_brand
from tests.sales.shop import BRAND, OTHER, RULES, Shop


@pytest.fixture
def shop(container, manager_token):
    """The whole app, two brands (10 % commission at acme), active members m1 and m2, blocked member mb."""
    from functions.http_api.app import create_app

    with TestClient(create_app(container.settings)) as client:
        keys = {BRAND: create_brand(client, manager_token, BRAND, pro=2, commissionRules=RULES),
                OTHER: create_brand(client, manager_token, OTHER)}
        for member_id in ("m1", "m2"):
            add_member(container, brand_id=BRAND, member_id=member_id, role=Role.AMBASSADOR)
        add_member(container, brand_id=BRAND, member_id="mb", role=Role.AMBASSADOR, status="blocked")
        add_member(container, brand_id=OTHER, member_id="o1", role=Role.AMBASSADOR)
        yield Shop(client, container, keys, manager_token)

"""Fixtures of the push-notification tests: a brand with two members and their App tokens."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.identity.test_profile_api import add_member, app_headers, make_brands
from tests.notifications.helpers import BRAND, OTHER


@pytest.fixture
def world(client, container, manager_token):
    make_brands(client, manager_token, BRAND, OTHER)
    m1, m2 = add_member(container, member_id="m1"), add_member(container, member_id="m2")
    return SimpleNamespace(client=client, container=container, m1=app_headers(container, m1),
                           m2=app_headers(container, m2))

"""The App learns the VAPID public key to subscribe devices with, derived from the private key that signs."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.config import Settings
from tests.identity.test_profile_api import make_brands
from tests.notifications.helpers import vapid_private_key

PRIVATE = vapid_private_key()


@pytest.fixture(params=[PRIVATE, ""], ids=["configured", "no-pushes"])
def settings(request, tmp_path):
    return Settings(env="local", data_dir=tmp_path / "data", demo_brand=False, redirect_flush_ms=0,
                    vapid_private_key=request.param)


def test_the_app_config_gives_the_key_pairs_public_half_or_none(client, manager_token, settings):
    make_brands(client, manager_token, "acme")
    shown = client.get("/api/v1/app/acme/config").json()["pushPublicKey"]
    if not settings.vapid_private_key:
        assert shown is None
        return
    raw = base64.urlsafe_b64decode(PRIVATE + "=" * (-len(PRIVATE) % 4))
    expected = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    assert base64.urlsafe_b64decode(shown + "=" * (-len(shown) % 4)) == expected

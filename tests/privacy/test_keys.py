"""Every key derived from a master secret: the kept ones byte for byte, the HKDF ones apart from each other.

The vectors were computed from the code `shared/privacy/keys.py` replaced (decision 0030): a change
that alters one makes stored hashes, sent unsubscribe links, click references or Mailjet's callback
password stop matching, and must fail here.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from functions.http_api.routers.webhooks.mailjet import webhook_secret
from shared.crm import unsubscribe
from shared.privacy.hashing import BrandHasher, EdgeIpHasher
from shared.privacy.keys import LEGACY_LABELS, derive_key
from shared.tracking import reference

MASTER = "test-master-key"


def test_the_brand_hashing_key_and_its_stored_hashes_are_unchanged() -> None:
    assert derive_key(MASTER, "brand-hash", brand_id="acme").hex() == (
        "4cd89ccfcbf7c79dbcffe28413dd5cb79977c51bb4908c934d3bd3e1fc7d4cf1")
    assert BrandHasher(MASTER, "acme")("email", "Jane@Example.com") == (
        "cbdd5435364275abc1a6978882b18bee8622972dfa76c49ac94c1537e2b354e9")


def test_the_edge_ip_hash_in_request_logs_is_unchanged() -> None:
    assert derive_key(MASTER, "edge-ip").hex() == "0f44261f25eb0d55638dc4df54147ab90a2ef3b38c0d1c124ea26b09b686d901"
    assert EdgeIpHasher(MASTER)("203.0.113.9") == "089717fac96aea6d"


def test_an_unsubscribe_link_sent_before_still_opens() -> None:
    settings = SimpleNamespace(hash_master_key=MASTER)
    sent = "eyJiIjoiYWNtZSIsImMiOiJjdDEiLCJtIjoibTEifQ.uZLX3wCnIPaCzvNE9i-JrRl5lC0"

    assert unsubscribe.make_token(settings, brand_id="acme", contact_id="ct1", member_id="m1") == sent
    assert unsubscribe.read_token(settings, "acme", sent) == ("ct1", "m1")


def test_a_click_reference_handed_out_before_still_attributes() -> None:
    clicked_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    handed_out = "Ab3dE5g.0123456789abcdef.t87v6t.e4e7e0c67d98e0cd"

    assert reference.sign(MASTER, "acme", code="Ab3dE5g", click_id="0123456789abcdef",
                          clicked_at=clicked_at) == handed_out
    assert reference.verify(MASTER, "acme", handed_out) == reference.Reference("Ab3dE5g", "0123456789abcdef",
                                                                               clicked_at)
    assert reference.verify(MASTER, "globex", handed_out) is None


def test_the_mailjet_callback_password_configured_at_mailjet_is_unchanged() -> None:
    settings = SimpleNamespace(mailjet_webhook_secret="", mailjet_api_secret="mj-secret")

    assert webhook_secret(settings) == "ea1d1c8a15a08d597b48f51faba84645f5ab00f1a7785c7a97e01cb127c9fa65"


def test_hkdf_keys_differ_by_purpose_by_brand_and_by_secret() -> None:
    keys = {derive_key(MASTER, "blob-links"), derive_key(MASTER, "blob-links", brand_id="acme"),
            derive_key(MASTER, "blob-links", brand_id="globex"), derive_key(MASTER, "other"),
            derive_key("another-master", "blob-links")}

    assert len(keys) == 5
    assert derive_key(MASTER, "blob-links") == derive_key(MASTER, "blob-links")
    assert len(derive_key(MASTER, "blob-links", length=64)) == 64


def test_hkdf_is_rfc_5869_with_the_purpose_as_info() -> None:
    # Computed independently with the standard library: HKDF-Extract (no salt), then one Expand block.
    prk = hmac.new(b"\0" * 32, MASTER.encode(), hashlib.sha256).digest()
    expected = hmac.new(prk, b"popsell/blob-links\x01", hashlib.sha256).digest()
    assert derive_key(MASTER, "blob-links") == expected


@pytest.mark.parametrize("purpose", sorted(LEGACY_LABELS))
def test_a_kept_key_refuses_a_call_that_would_silently_derive_another(purpose: str) -> None:
    per_brand = "{brand_id}" in LEGACY_LABELS[purpose]
    with pytest.raises(ValueError):
        derive_key(MASTER, purpose, brand_id=None if per_brand else "acme")
    with pytest.raises(ValueError):
        derive_key(MASTER, purpose, brand_id="acme" if per_brand else None, length=16)

"""Every key derived from a master secret comes from `derive_key`: one purpose, one key, never the secret itself.

Two modes (docs/decisions/0030-one-key-derivation-and-one-retry-helper.md):

- HKDF-SHA256 (RFC 5869, from `cryptography`), the info naming the purpose and the brand: for every
  purpose whose output is neither stored nor handed out for long, so changing it breaks nothing
  that lasts. New purposes use it.
- Legacy label, HMAC-SHA256(secret, label): the derivation each of these purposes had before this
  module, kept bit for bit because what it protects outlives a deploy: hashes stored and compared
  later, links in emails already sent, references and passwords held by others. Switching one of
  them is a data migration, not a refactoring. `tests/privacy/test_keys.py` pins each one with a
  vector computed from the code it replaced.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Purpose -> the HMAC label it has always used ("{brand_id}" where the key is per brand).
LEGACY_LABELS: dict[str, str] = {
    # Keyed hashes of emails, IPs, customer ids... stored in every container and compared for years.
    "brand-hash": "brand-hash-key:{brand_id}",
    # Request-log IP hashes: logs are kept and searched across deploys for one address.
    "edge-ip": "edge-ip",
    # Unsubscribe links in campaign emails: they must keep working months after the email was sent.
    "campaign-unsubscribe": "campaign-unsubscribe/v1",
    # popsell_ref on the brand's site: verified when the order arrives, up to the attribution window later.
    "attribution-ref": "attribution-ref:{brand_id}",
    # Mailjet's callback password, derived from the API secret and configured on Mailjet's side.
    "mailjet-webhook": "popsell-mailjet-webhook",
}

_LEGACY_LENGTH = hashlib.sha256().digest_size


def derive_key(master: str, purpose: str, *, brand_id: str | None = None, length: int = 32) -> bytes:
    """The key of `purpose` (and of `brand_id`, for a per-brand key) derived from the secret `master`.

    A purpose listed in LEGACY_LABELS keeps its HMAC label (32 bytes, and a per-brand label needs
    `brand_id`); any other purpose is HKDF-SHA256 with info "popsell/<purpose>[/<brand_id>]".
    """
    label = LEGACY_LABELS.get(purpose)
    per_brand = label is not None and "{brand_id}" in label
    if label is not None:
        if per_brand != (brand_id is not None):
            raise ValueError(f"the {purpose} key is {'per brand' if per_brand else 'not per brand'}")
        if length != _LEGACY_LENGTH:
            raise ValueError(f"the {purpose} key is {_LEGACY_LENGTH} bytes")
        message = label.format(brand_id=brand_id) if per_brand else label
        return hmac.new(master.encode(), message.encode(), hashlib.sha256).digest()
    info = f"popsell/{purpose}" + (f"/{brand_id}" if brand_id is not None else "")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode()).derive(master.encode())

"""Signed brand-platform requests: placeholder until the integration signing dependency is written (issue 3)."""

from __future__ import annotations

from shared.errors import Unauthorized


def signed_brand_request() -> None:
    """Refuse everything until signature verification exists."""
    raise Unauthorized("Signed integration requests are not accepted yet")

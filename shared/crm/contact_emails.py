"""What every email to a contact carries besides its own content: the brand, its privacy policy, the member.

The layout's footer (shared/emails/templates/_layout) names the brand and links its privacy policy;
the invitation and the address confirmation fill it from here, so a footer link added for contacts
is added once.
"""

from __future__ import annotations

from typing import Any

from shared.brands.models import Brand
from shared.ports.store import BrandStore


def footer_data(brand: Brand) -> dict[str, Any]:
    """The footer's data of an email to one of the brand's contacts (the platform's policy when the brand has none)."""
    data: dict[str, Any] = {"brand_name": brand.name}
    if brand.privacy_policy_url:
        data["privacy_policy_url"] = brand.privacy_policy_url
    return data


def member_name(store: BrandStore, member_id: str) -> str | None:
    """The name a contact knows the member by (first and last name), or None."""
    doc = store.find("members", member_id)
    if not doc:
        return None
    parts = [doc.get("firstName"), doc.get("lastName")]
    return " ".join(p for p in parts if p) or None

"""The vocabulary of tracking, declared once: sources, targets, channels, days and partitions.

Glossary: a *source* is where the traffic comes from (email, Facebook, a QR code...), a *target*
the page it lands on (a member's profile, a publication, a product page, a brand URL). A visit
is *internal* when it comes from inside the App or a Popsell widget (an enabler of conversion,
not new traffic), *external* otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

Source = Literal[
    "email", "facebook", "linkedin", "whatsapp", "x", "instagram", "sms", "qr_code", "copy_link", "in_store",
]
SOURCES: tuple[str, ...] = get_args(Source)

TargetKind = Literal["profile", "publication", "product", "url"]
TARGET_KINDS: tuple[str, ...] = get_args(TargetKind)

# How a sale happened: on the brand's site, in a shop (voucher), or sold by a vendor (phygital / direct).
Channel = Literal["online", "in_store", "phygital"]
CHANNELS: tuple[str, ...] = get_args(Channel)

# Why an order is (or is not) attributed to a member; every order carries one.
AttributionReason = Literal["last_click", "voucher", "conversation", "dedicated_member", "vendor", "none"]

# Counter dimension used for sales that did not come through a link (conversation, dedicated
# member, vendor): they have no source nor target of their own.
NO_SOURCE = "none"
NO_TARGET = "none"


def day_of(at: datetime) -> str:
    """The UTC day of an instant, as counters key it: "2030-01-31"."""
    return at.strftime("%Y-%m-%d")


def month_of(day: str) -> str:
    """The month of a day key: "2030-01"."""
    return day[:7]

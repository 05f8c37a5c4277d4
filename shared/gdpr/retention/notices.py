"""The emails of retention: inactivity warnings and the programme-suspension notice (ids only in logs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.brands.models import Brand
from shared.config import Settings
from shared.emails.address import checked_email
from shared.emails.service import email_record_id, enqueue_email
from shared.ports.bus import MessageBus
from shared.ports.store import BrandStore

Enqueue = Callable[..., str]


def login_url(settings: Settings, brand: Brand) -> str:
    """Where a member signs in to the brand's App."""
    return f"{settings.public_base_url.rstrip('/')}/app/{brand.id}/login"


def reachable(doc: dict[str, Any]) -> bool:
    """Only an active member with a verified address is warned (the warning asks them to sign in)."""
    # An address stored before the email type that it refuses cannot be written to: unreachable, not a failure.
    address = checked_email(doc["email"]) if isinstance(doc.get("email"), str) else None
    return doc.get("status") == "active" and address is not None and bool(doc.get("emailVerifiedAt"))


def leave_url(settings: Settings, brand: Brand, token: str) -> str:
    """The App page that leaves the programme with the suspension notice's single-use token."""
    return f"{settings.public_base_url.rstrip('/')}/app/{brand.id}/unsubscribe/leave#token={token}"


def send(*, enqueue: Enqueue, bus: MessageBus, settings: Settings, brand: Brand, doc: dict[str, Any],
         template: str, erase_on: datetime, message_id: str, extra: dict[str, Any] | None = None) -> None:
    """Enqueue one retention email to a member, in their language, under a deterministic message id."""
    enqueue(
        bus=bus, brand_id=brand.id, template=template, to_email=doc["email"], to_name=doc.get("firstName"),
        locale=doc.get("preferredLanguage") or brand.default_locale,
        data={"brand_name": brand.name, "login_url": login_url(settings, brand),
              "erase_on": erase_on.date().isoformat(),
              "privacy_policy_url": brand.privacy_policy_url or settings.privacy_policy_url, **(extra or {})},
        message_id=message_id, settings=settings,
    )


def already_sent(*, store: BrandStore, message_id: str) -> bool:
    """Whether the email pipeline's log holds this message (kept 90 days, far past the warning window)."""
    record = store.find("emails", email_record_id(message_id))
    return record is not None and record.get("status") in ("sent", "sending")


DEFAULT_ENQUEUE: Enqueue = enqueue_email

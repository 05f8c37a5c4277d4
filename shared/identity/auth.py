"""What member signup and login share: the caller's context, the brand's rules, the auth emails.

The services themselves are in `signup.py` (signup, email verification), `login.py` (password
login, refresh, logout, password reset) and `social_login.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.emails.service import prepare_email, send_prepared
from shared.errors import DomainError, Forbidden, RateLimited, Unauthorized
from shared.identity import throttle
from shared.identity.models import Member
from shared.ports.bus import OutgoingMessage
from shared.ports.platform import Platform
from shared.ports.store import BrandStore
from shared.privacy.hashing import BrandHasher

VERIFICATION_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=1)
PURPOSE_VERIFY = "email_verification"
PURPOSE_RESET = "password_reset"


class SsoOnly(Forbidden):
    """The brand lets members in through its own platform (SSO) only."""

    code = "sso-only"
    title = "This programme signs members in through the brand's own platform only"


class EmailNotVerified(Forbidden):
    code = "email-not-verified"
    title = "Confirm your email address first"


class RegistrationNotAllowed(Forbidden):
    """The brand's registration whitelist does not hold this email or customer ID."""

    code = "registration-not-allowed"
    title = "This programme is open to invited people only"


class InvalidCredentials(Unauthorized):
    """One answer for an unknown address, a wrong password and an account without access."""

    code = "invalid-credentials"
    title = "Email or password is incorrect"


class ProgrammeClosed(DomainError):
    code = "programme-not-active"
    status = 403
    title = "This programme is not open"


@dataclass(frozen=True)
class AuthContext:
    """One auth call: the brand (loaded once), its store handle and hasher, and the client's hashes."""

    container: Platform
    brand: Brand
    store: BrandStore
    hasher: BrandHasher
    ip_hash: str | None = None
    user_agent_hash: str | None = None

    @property
    def brand_id(self) -> str:
        return self.brand.id


def auth_context(*, container: Platform, brand_id: str, ip: str | None = None,
                 user_agent: str | None = None) -> AuthContext:
    """Load the brand (404 when unknown) and hash the client's IP and user agent at once."""
    brand = brands.get(store=container.store, brand_id=brand_id)
    if brand.status != "active":
        raise ProgrammeClosed("This programme is not open at the moment")
    hasher = container.hasher(brand_id)
    return AuthContext(
        container=container,
        brand=brand,
        store=container.store.for_brand(brand_id),
        hasher=hasher,
        ip_hash=hasher("ip", ip) if ip else None,
        user_agent_hash=hasher("user_agent", user_agent) if user_agent else None,
    )


def refuse_if_sso_only(*, ctx: AuthContext) -> None:
    """Signup, password login and social login are closed on an SSO-exclusive programme."""
    if ctx.brand.registration.sso_exclusive:
        raise SsoOnly("Sign in through the brand's website")


def app_link(*, ctx: AuthContext, page: str, token: str) -> str:
    """A link into the App. The token rides in the fragment, which browsers never send to servers or in Referer."""
    base = ctx.container.settings.public_base_url.rstrip("/")
    return f"{base}/app/{ctx.brand_id}/{page}#token={token}"


def mail_allowed(*, ctx: AuthContext, key: str, policy: throttle.ThrottlePolicy, now: datetime) -> bool:
    """Count one email to an address against its limit; False past it (send nothing, answer as usual)."""
    try:
        throttle.count(store=ctx.store, limits=[throttle.Limit(key, policy)], now=now)
    except RateLimited:
        # The caller's answer stays the same 202, so the limit reveals nothing about the address.
        return False
    return True


def auth_email(*, ctx: AuthContext, template: str, member: Member, to_email: str, data: dict[str, Any],
               message_id: str) -> OutgoingMessage:
    """One account email in the member's language, with the brand's name and privacy policy, checked and rendered."""
    return prepare_email(
        brand_id=ctx.brand_id,
        template=template,
        to_email=to_email,
        to_name=member.first_name or member.alias,
        locale=member.preferred_language or ctx.brand.default_locale,
        data={**brands.email_data(ctx.brand), **data},
        message_id=message_id,
        settings=ctx.container.settings,
    )


def send_auth_email(*, ctx: AuthContext, template: str, member: Member, to_email: str, data: dict[str, Any],
                    message_id: str) -> None:
    """Queue one account email (see `auth_email`)."""
    send_prepared(bus=ctx.container.bus, message=auth_email(ctx=ctx, template=template, member=member,
                                                            to_email=to_email, data=data,
                                                message_id=message_id))

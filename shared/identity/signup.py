"""Member signup by form, with double opt-in: pending until the emailed link is followed.

The answer to a signup never tells whether the address already has an account (no account
enumeration): a known address gets the same 202, and its owner gets an email instead, either
the verification link again (not yet verified) or a notice that someone tried to sign up.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime

from pydantic import Field, field_validator

from shared.brands.models import REQUIRED_NAMES
from shared.clock import isoformat
from shared.emails.address import EmailAddress
from shared.emails.service import send_prepared
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity import action_tokens, repository, throttle, whitelist
from shared.identity.auth import (
    PURPOSE_VERIFY,
    VERIFICATION_TTL,
    AuthContext,
    RegistrationNotAllowed,
    app_link,
    auth_email,
    mail_allowed,
    refuse_if_sso_only,
    send_auth_email,
)
from shared.identity.events import joined
from shared.identity.models import CamelModel, Member, Role, TermsAcceptance
from shared.identity.passwords import hash_password
from shared.ports.bus import OutgoingMessage
from shared.ports.store import DocumentNotFound, PatchOp

log = logging.getLogger(__name__)

# The link again to an address that already signed up (a second signup, a resend): once per 15
# minutes after the first email, which is always sent. Counted race-free, so 20 signups or
# resends sent at once for one address send at most two emails; the answer stays the same 202.
VERIFY_AGAIN_POLICY = throttle.ThrottlePolicy(max_failures=1, window=throttle.ACCOUNT_POLICY.window,
                                              lockout=throttle.ACCOUNT_POLICY.lockout)


_BY_POLICY = ("Required or not by the brand's display-name policy: `GET /api/v1/app/{brandId}/config` gives "
              "`signup.requiredNames`; a missing required name is a 422 naming it.")


class MemberSignup(CamelModel):
    """A signup form: terms must be accepted; which names are required depends on the brand.

    The brand's display-name policy (`displayNamePolicy`) decides: "full_name" and
    "first_name_initial" require firstName and lastName, "alias" requires alias.
    """

    email: EmailAddress
    password: str = Field(max_length=200)
    first_name: str | None = Field(None, max_length=80, description=_BY_POLICY)
    last_name: str | None = Field(None, max_length=80, description=_BY_POLICY)
    alias: str | None = Field(None, max_length=80, description=_BY_POLICY)
    accept_terms: bool
    terms_version: str = Field(min_length=1, max_length=40)
    customer_id: str | None = Field(None, min_length=1, max_length=120)
    preferred_language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")

    @field_validator("accept_terms")
    @classmethod
    def _terms_accepted(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("the Popsell Terms and Conditions must be accepted to create an account")
        return value


_NAME_FIELDS = {"firstName": "first_name", "lastName": "last_name", "alias": "alias"}


def _required_names(ctx: AuthContext, data: MemberSignup) -> None:
    """The brand's display-name policy decides which names the form must carry (brands.models.REQUIRED_NAMES)."""
    required = REQUIRED_NAMES[ctx.brand.display_name_policy]
    missing = [name for name in required if not (getattr(data, _NAME_FIELDS[name]) or "").strip()]
    if missing:
        fields = [{"field": name, "message": "required by this programme"} for name in missing]
        raise InvalidInput("Missing: " + ", ".join(f["field"] for f in fields), errors=fields)


def allowed_role(*, ctx: AuthContext, email_hash: str, customer_id_hash: str | None) -> Role:
    """The role a newcomer gets; RegistrationNotAllowed when the brand's whitelist does not hold them."""
    if not ctx.brand.registration.whitelist_enabled:
        return Role.AMBASSADOR
    entry = whitelist.match(store=ctx.store, email_hash=email_hash, customer_id_hash=customer_id_hash)
    if entry is None:
        raise RegistrationNotAllowed("Your email address or customer ID is not on this programme's list")
    return Role(entry["role"]) if entry.get("role") else Role.AMBASSADOR


def _new_member(ctx: AuthContext, data: MemberSignup, *, password_hash: str, email_hash: str,
                customer_id_hash: str | None, now: datetime) -> Member:
    role = allowed_role(ctx=ctx, email_hash=email_hash, customer_id_hash=customer_id_hash)
    return Member(
        id=uuid.uuid4().hex,
        role=role,
        status="pending_verification",
        created_at=now,
        first_name=data.first_name,
        last_name=data.last_name,
        alias=data.alias,
        password_hash=password_hash,
        email=data.email,
        email_hash=email_hash,
        customer_id=data.customer_id,
        customer_id_hash=customer_id_hash,
        preferred_language=data.preferred_language,
        popsell_terms=TermsAcceptance(version=data.terms_version, accepted_at=now),
        status_changed_at=now,
    )


def signup(*, ctx: AuthContext, data: MemberSignup, now: datetime) -> None:
    """Create a pending member and send the verification link (or the right email to a known address).

    The member and its first email succeed or fail together: the email is checked and rendered
    before anything is written, and if a later step fails (the queue is down) every write of
    this signup is undone, so the same address can simply sign up again.
    """
    refuse_if_sso_only(ctx=ctx)
    _required_names(ctx, data)
    # Hash first, whatever happens next: a known address then costs the same time as a new one.
    password_hash = hash_password(data.password)
    email_hash = ctx.hasher("email", data.email)
    customer_id_hash = ctx.hasher("customer_id", data.customer_id) if data.customer_id else None
    member = _new_member(ctx, data, password_hash=password_hash, email_hash=email_hash,
                         customer_id_hash=customer_id_hash, now=now)
    token = action_tokens.new_token()
    first_email = _verification_email(ctx, member, token)

    if not repository.claim_key(store=ctx.store, kind="email", hashed=email_hash, owner_id=member.id,
                                owner_type="member"):
        _known_address(ctx, email_hash=email_hash, email=data.email, now=now)
        return
    try:
        if customer_id_hash and not repository.claim_key(store=ctx.store, kind="customer_id", hashed=customer_id_hash,
                                                         owner_id=member.id,
                                                         owner_type="member"):
            raise Conflict("This customer ID is already used by another account",
                           errors=[{"field": "customerId", "message": "already used"}])
        repository.save(store=ctx.store, container=repository.MEMBERS, model=member, etag=None)
        _store_and_send(ctx, member, token, first_email, now=now)
    except Exception:
        _undo_signup(ctx, member, token)
        raise
    log.info("member %s signed up on brand %s (role %d), pending verification", member.id, ctx.brand_id,
             member.role)


def _undo_signup(ctx: AuthContext, member: Member, token: str) -> None:
    """Nothing half-written: the link, the member and the claimed identifiers go (each only if it was written)."""
    action_tokens.discard(store=ctx.store, token=token)
    with contextlib.suppress(DocumentNotFound):
        ctx.store.delete(repository.MEMBERS, member.id)
    repository.release_key(store=ctx.store, kind="email", hashed=member.email_hash or "", owner_id=member.id)
    if member.customer_id_hash:
        repository.release_key(store=ctx.store, kind="customer_id", hashed=member.customer_id_hash, owner_id=member.id)


def _verification_email(ctx: AuthContext, member: Member, token: str) -> OutgoingMessage:
    return auth_email(
        ctx=ctx, template="email_verification", member=member, to_email=member.email or "",
        data={"verify_url": app_link(ctx=ctx, page="verify-email", token=token),
              "expires_in_hours": int(VERIFICATION_TTL.total_seconds() // 3600)},
        message_id=f"verify:{member.id}:{action_tokens.token_hash(token)[:16]}",
    )


def _store_and_send(ctx: AuthContext, member: Member, token: str, message: OutgoingMessage, *,
                    now: datetime) -> None:
    action_tokens.create(store=ctx.store, purpose=PURPOSE_VERIFY, subject=member.id, now=now, ttl=VERIFICATION_TTL,
                         token=token)
    send_prepared(bus=ctx.container.bus, message=message)


def send_verification(*, ctx: AuthContext, member: Member, now: datetime) -> None:
    """Email a fresh single-use verification link to a pending member."""
    token = action_tokens.new_token()
    _store_and_send(ctx, member, token, _verification_email(ctx, member, token), now=now)


def _verification_again(ctx: AuthContext, member: Member, *, email_hash: str, now: datetime) -> None:
    """The link again to a pending member, at most once per VERIFY_AGAIN_POLICY window (silently otherwise)."""
    if mail_allowed(ctx=ctx, key=f"verify-mail:{email_hash}", policy=VERIFY_AGAIN_POLICY, now=now):
        send_verification(ctx=ctx, member=member, now=now)


def _known_address(ctx: AuthContext, *, email_hash: str, email: str, now: datetime) -> None:
    owner = repository.owner_of(store=ctx.store, kind="email", hashed=email_hash)
    try:
        member, _ = repository.get_member(store=ctx.store, member_id=owner or "")
    except NotFound:
        return
    if member.status == "pending_verification":
        _verification_again(ctx, member, email_hash=email_hash, now=now)
    elif member.status == "active":
        # Minute precision: a burst of attempts sends one notice per minute at most.
        minute = now.strftime("%Y%m%d%H%M")
        send_auth_email(ctx=ctx, template="signup_attempt", member=member, to_email=member.email or email,
                        data={"login_url": f"{ctx.container.settings.public_base_url.rstrip('/')}"
                                           f"/app/{ctx.brand_id}/login"},
                        message_id=f"signup-attempt:{member.id}:{minute}")
    log.info("signup with the address of member %s on brand %s answered without revealing it", member.id,
             ctx.brand_id)


def resend_verification(*, ctx: AuthContext, email: str, now: datetime) -> None:
    """Send the verification link again to a pending member (limited per address); silent for any other address."""
    refuse_if_sso_only(ctx=ctx)
    email_hash = ctx.hasher("email", email)
    owner = repository.owner_of(store=ctx.store, kind="email", hashed=email_hash)
    if owner is None:
        return
    try:
        member, _ = repository.get_member(store=ctx.store, member_id=owner)
    except NotFound:
        return
    if member.status == "pending_verification":
        _verification_again(ctx, member, email_hash=email_hash, now=now)


def verify_email(*, ctx: AuthContext, token: str, now: datetime) -> Member:
    """Follow a verification link: the pending member becomes active, its email verified."""
    used = action_tokens.consume(store=ctx.store, purpose=PURPOSE_VERIFY, token=token, now=now)
    member, etag = repository.get_member(store=ctx.store, member_id=used.subject)
    if member.status != "pending_verification":
        return member
    updated = member.model_copy(update={"status": "active", "email_verified_at": now, "status_changed_at": now,
                                        "last_activity_at": now})
    repository.save(store=ctx.store, container=repository.MEMBERS, model=updated, etag=etag)
    log.info("member %s verified its email on brand %s", member.id, ctx.brand_id)
    ctx.container.events.publish(joined(ctx.brand_id, updated, via="signup", now=now))
    return updated


def touch_activity(*, ctx: AuthContext, member_id: str, now: datetime) -> None:
    """Record that a member used the App now (what the 3-year inactivity rule reads)."""
    ctx.store.patch(repository.MEMBERS, member_id, [PatchOp("set", "lastActivityAt", isoformat(now))])

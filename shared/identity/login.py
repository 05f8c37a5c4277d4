"""Member password login, session refresh and logout, and password reset.

Failures never tell an unknown address from a wrong password or from an account without
access (one generic 401, one bcrypt check either way); only a pending member who gave the
right password learns that the email still needs confirming. Each login reserves an attempt on
the account (its email hash) and the client's hashed IP before the password is checked, so
parallel guesses cannot outrun the lockout (see throttle.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.errors import NotFound, Unauthorized
from shared.identity import action_tokens, activity, member_sessions, repository, sessions, throttle
from shared.identity.auth import (
    PURPOSE_RESET,
    RESET_TTL,
    AuthContext,
    EmailNotVerified,
    InvalidCredentials,
    app_link,
    mail_allowed,
    refuse_if_sso_only,
    send_auth_email,
)
from shared.identity.models import ACCESS_STATUSES, Member
from shared.identity.passwords import check_password, hash_password, validate_password
from shared.identity.sessions import Grant, TokenPair
from shared.identity.signup import touch_activity

log = logging.getLogger(__name__)

# Password-reset emails per address: the same counter shape as failed logins, so a form cannot
# be used to flood someone's inbox.
RESET_MAIL_POLICY = throttle.ThrottlePolicy(max_failures=3, window=throttle.ACCOUNT_POLICY.window,
                                            lockout=throttle.ACCOUNT_POLICY.lockout)


def account_key(email_hash: str) -> str:
    """The throttle key of an account."""
    return f"login:email:{email_hash}"


def ip_key(ip_hash: str) -> str:
    """The throttle key of a client IP (already hashed)."""
    return f"login:ip:{ip_hash}"


def _member_by_email(ctx: AuthContext, email_hash: str) -> Member | None:
    owner = repository.owner_of(store=ctx.store, kind="email", hashed=email_hash)
    if owner is None:
        return None
    try:
        return repository.get_member(store=ctx.store, member_id=owner)[0]
    except NotFound:
        return None


def start_session(*, ctx: AuthContext, member: Member, now: datetime, method: str) -> TokenPair:
    """After any successful login: record the activity and open an App session."""
    touch_activity(ctx=ctx, member_id=member.id, now=now)
    activity.record(store=ctx.store, subject=member.id, kind="login", method=method, now=now, ip_hash=ctx.ip_hash,
                    user_agent_hash=ctx.user_agent_hash)
    log.info("member %s logged in on brand %s (%s)", member.id, ctx.brand_id, method)
    return member_sessions.open_app_session(store=ctx.store, tokens=ctx.container.tokens, member=member,
                                            brand_id=ctx.brand_id, now=now)


def login(*, ctx: AuthContext, email: str, password: str, now: datetime) -> TokenPair:
    """Check a member's password and open a session; 401 generic, 403 email-not-verified, 429 locked."""
    refuse_if_sso_only(ctx=ctx)
    email_hash = ctx.hasher("email", email)
    account = account_key(email_hash)
    limits = throttle.login_limits(account=account, ip=ip_key(ctx.ip_hash) if ctx.ip_hash else None)
    attempt = throttle.reserve(store=ctx.store, limits=limits, now=now)
    member = _member_by_email(ctx, email_hash)
    if not check_password(password, member.password_hash if member else None):
        attempt.failed()
        log.info("failed login on brand %s", ctx.brand_id)
        raise InvalidCredentials("Email or password is incorrect")
    assert member is not None  # a password matched, so there is a member
    if member.status not in ACCESS_STATUSES:
        attempt.succeeded()  # the right password is no failure, though it opens no session
        if member.status == "pending_verification":
            raise EmailNotVerified("Follow the link we emailed you to confirm your address, or ask for a new one")
        raise InvalidCredentials("Email or password is incorrect")
    # Only the account's counter: one good login must not wash an IP that is guessing many accounts.
    attempt.succeeded(reset=[account])
    return start_session(ctx=ctx, member=member, now=now, method="password")


def member_authorizer(*, ctx: AuthContext):
    """The refresh check for App sessions: the member must still have access; its current role is used."""

    def authorize(subject: str) -> Grant:
        try:
            member, _ = repository.get_member(store=ctx.store, member_id=subject)
        except NotFound as exc:
            raise Unauthorized("This account no longer exists") from exc
        if member.status not in ACCESS_STATUSES:
            raise Unauthorized("This account has no access")
        return member_sessions.member_grant(member)

    return authorize


def refresh(*, ctx: AuthContext, refresh_token: str, now: datetime) -> TokenPair:
    """Rotate an App refresh token (a reused one ends the whole session family)."""
    pair = sessions.refresh_session(store=ctx.store, tokens=ctx.container.tokens, refresh_token=refresh_token,
                                    audience="app",
                                    brand_id=ctx.brand_id, now=now, authorize=member_authorizer(ctx=ctx))
    touch_activity(ctx=ctx, member_id=pair.subject, now=now)
    return pair


def logout(*, ctx: AuthContext, refresh_token: str, now: datetime) -> None:
    """End the session family of this refresh token (silently when it is unknown)."""
    family_id = sessions.family_of(store=ctx.store, refresh_token=refresh_token)
    if family_id:
        sessions.revoke_family(store=ctx.store, family_id=family_id, now=now, reason="logout")


def request_password_reset(*, ctx: AuthContext, email: str, now: datetime) -> None:
    """Email a 1-hour single-use reset link to an active member; silent for any other address."""
    refuse_if_sso_only(ctx=ctx)
    email_hash = ctx.hasher("email", email)
    member = _member_by_email(ctx, email_hash)
    if member is None or member.status not in ACCESS_STATUSES or not member.email:
        return
    if not mail_allowed(ctx=ctx, key=f"reset-mail:{email_hash}", policy=RESET_MAIL_POLICY, now=now):
        return
    token = action_tokens.create(store=ctx.store, purpose=PURPOSE_RESET, subject=member.id, now=now, ttl=RESET_TTL)
    send_auth_email(
        ctx=ctx, template="password_reset", member=member, to_email=member.email,
        data={"reset_url": app_link(ctx=ctx, page="reset-password", token=token),
              "expires_in_minutes": int(RESET_TTL.total_seconds() // 60)},
        message_id=f"reset:{member.id}:{action_tokens.token_hash(token)[:16]}",
    )
    log.info("password reset link sent to member %s on brand %s", member.id, ctx.brand_id)


def confirm_password_reset(*, ctx: AuthContext, token: str, new_password: str, now: datetime) -> None:
    """Set a new password from a reset link; every session of the member ends."""
    validate_password(new_password)  # before using the link up, so a refused password keeps it valid
    used = action_tokens.consume(store=ctx.store, purpose=PURPOSE_RESET, token=token, now=now)
    member, etag = repository.get_member(store=ctx.store, member_id=used.subject)
    if member.status not in ACCESS_STATUSES:
        raise action_tokens.LinkGone("This link no longer works")
    # One write: the new password, and a new session epoch so every access token issued before stops too.
    updated = member_sessions.with_sessions_ended(member).model_copy(
        update={"password_hash": hash_password(new_password)})
    repository.save(store=ctx.store, container=repository.MEMBERS, model=updated, etag=etag)
    ended = sessions.revoke_subject(store=ctx.store, subject=member.id, now=now, reason="password-reset")
    if member.email_hash:
        throttle.reset(store=ctx.store, keys=[account_key(member.email_hash)])
    log.info("member %s reset its password on brand %s; %d sessions ended", member.id, ctx.brand_id, ended)

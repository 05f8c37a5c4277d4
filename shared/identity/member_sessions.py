"""A member's App sessions, and how they all end at once: the session epoch.

A password reset must end every open session, access tokens included. Refresh tokens are revoked
in `auth_sessions`; access tokens are stateless JWTs, so the member carries a `session_epoch` (an
int) that the reset raises, every App access token carries the epoch it was issued in (claim
`sep`), and the read of the member every App request makes anyway (`calling_member`) refuses a
token of another epoch. A token without the claim (issued before epochs existed) counts as epoch 0.
An integer, not "issued before the reset" timestamps: exact even when a token and the reset share
a second (JWT times are whole seconds; tests run on a frozen clock). See docs/decisions/0019.
"""

from __future__ import annotations

from datetime import datetime

from shared.errors import NotFound, Unauthorized
from shared.identity import repository, sessions
from shared.identity.models import ACCESS_STATUSES, Member
from shared.identity.sessions import Grant, TokenPair
from shared.identity.tokens import Principal, TokenService
from shared.ports.store import BrandStore


def member_grant(member: Member) -> Grant:
    """The claims of a member's access token (at login and at each refresh): its role and session epoch."""
    return Grant(role=int(member.role), session_epoch=member.session_epoch)


def open_app_session(*, store: BrandStore, tokens: TokenService, member: Member, brand_id: str,
                     now: datetime) -> TokenPair:
    """An App session for a member, its access token stamped with the member's role and session epoch."""
    grant = member_grant(member)
    return sessions.issue_session(store=store, tokens=tokens, subject=member.id, audience="app", brand_id=brand_id,
                                  now=now,
                                  role=grant.role, session_epoch=grant.session_epoch)


def with_sessions_ended(member: Member) -> Member:
    """The member in a new session epoch: every App access token issued so far stops working."""
    return member.model_copy(update={"session_epoch": member.session_epoch + 1})


def calling_member(*, store: BrandStore, principal: Principal) -> Member:
    """The member behind an App access token, read now; 401 when gone, without access, or its session ended."""
    try:
        member, _ = repository.get_member(store=store, member_id=principal.subject)
    except NotFound as exc:
        raise Unauthorized("This account no longer exists") from exc
    if member.status not in ACCESS_STATUSES:
        raise Unauthorized("This account has no access")
    if principal.session_epoch != member.session_epoch:
        raise Unauthorized("This session has ended; log in again")
    return member

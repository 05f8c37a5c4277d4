"""Manager users: invited by an existing admin, activated by a single-use link, signed in with a password.

The guide: "Access to the Popsell Manager can only be granted by an existing Popsell Manager
user, who has the right to send a secured invitation email." A brand's users live in that
brand's scope; platform operators live under PLATFORM_SCOPE and only an operator invites one.
An email is unique per scope (a keyed hash claimed in `identity_keys`). Sign-in is throttled
per account and per hashed IP; a wrong email and a wrong password answer the same 401.

Manager users are users in the guide's sense ("Users data (Members, external users, Popsell
Manager users)"): when all the brand's personal data goes (end of contract, a suspension past its
cap: shared.gdpr.retention.brandwide), they are erased too (`erase`), journalled first so a
restored backup erases them again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.clock import parse_instant
from shared.config import Settings
from shared.emails.address import checked_email
from shared.emails.service import enqueue_email
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from shared.gdpr.journal import Journal, Outcome
from shared.identity import action_tokens, repository, throttle
from shared.identity.models import ManagerUser
from shared.identity.passwords import check_password, hash_password, validate_password
from shared.identity.tokens import MANAGER_LEVELS, TokenService
from shared.ports.bus import MessageBus
from shared.ports.store import BrandStore, EtagMismatch, Filter, Page
from shared.ports.store_retry import retrying
from shared.privacy.hashing import BrandHasher
from shared.store_schema import PLATFORM_SCOPE

log = logging.getLogger(__name__)

INVITATION = "manager_invitation"  # action-token purpose
INVITATION_TTL = timedelta(hours=72)
SESSION_TTL = timedelta(hours=8)
EMAIL_KEY = "manager_email"  # identity_keys kind: one Manager user per email and scope
BRAND_LEVELS = ("viewer", "editor", "admin")


def normalise_email(email: str) -> str:
    """The stored form of a Manager user's email (trimmed, lowercase); InvalidInput (field email) when malformed."""
    address = checked_email(email)
    if address is None:
        raise InvalidInput("Invalid email address", errors=[{"field": "email", "message": "not an email address"}])
    return address.lower()


def grantable_levels(*, scope: str, granter_level: str) -> tuple[str, ...]:
    """Levels a granter may give in a scope: brand levels up to admin; operator only by an operator, on the platform."""
    if scope == PLATFORM_SCOPE:
        return ("operator",) if granter_level == "operator" else ()
    if granter_level == "operator":
        return BRAND_LEVELS
    return BRAND_LEVELS if granter_level == "admin" else ()


def _check_grant(scope: str, granter_level: str, level: str) -> None:
    if level not in MANAGER_LEVELS:
        raise InvalidInput("Unknown level", errors=[{"field": "level", "message": "viewer, editor or admin"}])
    if level not in grantable_levels(scope=scope, granter_level=granter_level):
        raise Forbidden(f"You cannot grant the {level} level here")


def invite(
    *,
    store: BrandStore,
    hasher: BrandHasher,
    bus: MessageBus,
    settings: Settings,
    brand_name: str,
    locale: str,
    inviter_id: str,
    inviter_level: str,
    email: str,
    level: str,
    first_name: str | None,
    last_name: str | None,
    now: datetime,
    privacy_policy_url: str | None = None,
) -> ManagerUser:
    """Invite a Manager user (or invite again one who has not accepted yet) and email them a 72-hour link."""
    _check_grant(store.brand_id, inviter_level, level)
    address = normalise_email(email)
    email_hash = hasher("email", address)
    user_id = repository.owner_of(store=store, kind=EMAIL_KEY, hashed=email_hash)
    if user_id is not None:
        user, etag = repository.get_manager_user(store=store, user_id=user_id)
        if user.status != "invited":
            raise Conflict("This person already has access to this Manager")
        user = user.model_copy(update={"level": level, "first_name": first_name or user.first_name,
                                       "last_name": last_name or user.last_name, "invited_by": inviter_id})
        repository.save(store=store, container=repository.MANAGER_USERS, model=user, etag=etag)
        _revoke_invitations(store, user.id)
    else:
        user = ManagerUser(id=f"mu-{uuid.uuid4().hex}", level=level, status="invited", email=address,
                           email_hash=email_hash, first_name=first_name, last_name=last_name,
                           invited_by=inviter_id, created_at=now)
        if not repository.claim_key(store=store, kind=EMAIL_KEY, hashed=email_hash, owner_id=user.id,
                                    owner_type="manager_user"):
            raise Conflict("This person already has access to this Manager")
        repository.save(store=store, container=repository.MANAGER_USERS, model=user, etag=None)
    token = action_tokens.create(store=store, purpose=INVITATION, subject=user.id, now=now, ttl=INVITATION_TTL)
    data: dict[str, Any] = {
        "brand_name": brand_name,
        "role": level,
        "invite_url": f"{settings.public_base_url.rstrip('/')}/manager/{store.brand_id}/invitation#token={token}",
        "expires_in_days": INVITATION_TTL.days,
    }
    if privacy_policy_url:
        data["privacy_policy_url"] = privacy_policy_url
    enqueue_email(bus=bus, brand_id=store.brand_id, template="manager_invitation", to_email=address,
                  to_name=first_name, locale=locale, data=data, settings=settings,
                  message_id=f"invite:{user.id}:{action_tokens.token_hash(token)[:16]}")
    log.info("manager user %s invited to %s by %s", user.id, store.brand_id, inviter_id)
    return user


def _revoke_invitations(store: BrandStore, user_id: str) -> None:
    """Only the latest invitation works: earlier links stop when a new one is sent."""
    for doc in store.query_all(action_tokens.CONTAINER, filters=[Filter("subject", "=", user_id),
                                                                  Filter("purpose", "=", INVITATION)]):
        store.delete(action_tokens.CONTAINER, doc["id"])


def accept_invitation(*, store: BrandStore, token: str, password: str, now: datetime) -> ManagerUser:
    """Accept an invitation with a new password: the user becomes active; the link works once."""
    validate_password(password)  # before using the link up, so a short password can be retried
    link = action_tokens.consume(store=store, purpose=INVITATION, token=token, now=now)
    user, etag = repository.get_manager_user(store=store, user_id=link.subject)
    if user.status != "invited":
        raise Conflict("This invitation was already accepted or withdrawn")
    user = user.model_copy(update={"status": "active", "password_hash": hash_password(password)})
    repository.save(store=store, container=repository.MANAGER_USERS, model=user, etag=etag)
    log.info("manager user %s of %s accepted the invitation", user.id, store.brand_id)
    return user


def login(
    *,
    store: BrandStore,
    hasher: BrandHasher,
    tokens: TokenService,
    email: str,
    password: str,
    ip: str | None,
    now: datetime,
) -> tuple[ManagerUser, str]:
    """Check a Manager user's password; the user and an 8-hour Manager token. Throttled (429)."""
    email_hash = hasher("email", email)
    account_key = f"manager-login:email:{email_hash}"
    ip_key = f"manager-login:ip:{hasher('ip', ip)}" if ip else None
    # Reserved before the password is checked, so parallel guesses cannot outrun the lockout.
    attempt = throttle.reserve(store=store, limits=throttle.login_limits(account=account_key, ip=ip_key), now=now)
    user_id = repository.owner_of(store=store, kind=EMAIL_KEY, hashed=email_hash)
    user = repository.get_manager_user(store=store, user_id=user_id)[0] if user_id else None
    # One bcrypt check whatever happens, so timing tells nothing about which emails exist.
    valid = check_password(password, user.password_hash if user else None)
    if not valid or user is None or user.status != "active":
        attempt.failed()
        log.info("manager sign-in refused in %s", store.brand_id)
        raise Unauthorized("Wrong email or password")
    attempt.succeeded(reset=[account_key])
    user = _touch_login(store, user, now)
    brand_id = None if store.brand_id == PLATFORM_SCOPE else store.brand_id
    token = tokens.issue(subject=user.id, audience="manager", brand_id=brand_id, now=now, ttl=SESSION_TTL,
                         level=user.level)
    log.info("manager user %s signed in to %s", user.id, store.brand_id)
    return user, token


def _touch_login(store: BrandStore, user: ManagerUser, now: datetime) -> ManagerUser:
    touched = user.model_copy(update={"last_login_at": now})
    try:
        current, etag = repository.get_manager_user(store=store, user_id=user.id)
        touched = current.model_copy(update={"last_login_at": now})
        repository.save(store=store, container=repository.MANAGER_USERS, model=touched, etag=etag)
    except EtagMismatch:
        pass  # another sign-in wrote it at the same moment: either time is right
    return touched


def get_all(*, store: BrandStore, page_size: int, continuation: str | None) -> Page:
    """One page of this scope's Manager users (documents; erased ones are no one's users any more)."""
    return store.query(repository.MANAGER_USERS, filters=[Filter("status", "!=", "erased")], page_size=page_size,
                       continuation=continuation)


def _get_live(store: BrandStore, user_id: str) -> tuple[ManagerUser, str | None]:
    user, etag = repository.get_manager_user(store=store, user_id=user_id)
    if user.status == "erased":
        raise NotFound("Manager user not found")
    return user, etag


def erase(*, store: BrandStore, journal: Journal, user_id: str, now: datetime, rule: str) -> bool:
    """Erase a Manager user the guide's way (hashed), journalled first; False when already erased.

    The address, names and password go, with any pending invitation and the address's claim; the
    keyed hash, the level and the dates stay. Their tokens stop working (`check_active`).
    """
    def attempt() -> tuple[ManagerUser, bool]:
        user, etag = repository.get_manager_user(store=store, user_id=user_id)
        if user.status == "erased":
            return user, False
        journal.record(subject_type="manager_user", subject_id=user_id, rule=rule, now=now)
        erased = user.model_copy(update={"status": "erased", "email": None, "first_name": None, "last_name": None,
                                         "password_hash": None})
        repository.save(store=store, container=repository.MANAGER_USERS, model=erased, etag=etag)
        return user, True

    user, erased_now = retrying(attempt, attempts=3,
                                exhausted=Conflict("This Manager user changed at the same time; try again"))
    if not erased_now:
        return False
    _revoke_invitations(store, user_id)
    repository.release_key(store=store, kind=EMAIL_KEY, hashed=user.email_hash, owner_id=user_id)
    log.info("manager user %s of %s erased (%s)", user_id, store.brand_id, rule)
    return True


def replay_entry(journal: Journal, store: BrandStore, brand: Any, entry: dict[str, Any], dry_run: bool) -> Outcome:
    """Erase again a Manager user the journal names, as of the entry's time (journal replay)."""
    doc = store.find(repository.MANAGER_USERS, entry["subjectId"])
    if doc is None:
        return "missing"
    if doc.get("status") == "erased":
        return "already"
    if not dry_run:
        erase(store=store, journal=journal, user_id=entry["subjectId"], now=parse_instant(entry["at"]),
              rule=entry["rule"])
    return "again"


def _modify(store: BrandStore, user_id: str, actor_id: str, changes: dict[str, Any]) -> ManagerUser:
    if user_id == actor_id:
        # An admin demoting or disabling themselves could leave the brand without an admin.
        raise Conflict("You cannot change your own access")
    user, etag = _get_live(store, user_id)
    updated = user.model_copy(update=changes)
    if updated != user:
        repository.save(store=store, container=repository.MANAGER_USERS, model=updated, etag=etag)
        log.info("manager user %s of %s changed by %s", user_id, store.brand_id, actor_id)
    return updated


def change_level(*, store: BrandStore, user_id: str, level: str, actor_id: str, actor_level: str) -> ManagerUser:
    """Give a Manager user another level (never above what the actor may grant)."""
    _check_grant(store.brand_id, actor_level, level)
    return _modify(store, user_id, actor_id, {"level": level})


def set_status(*, store: BrandStore, user_id: str, status: str, actor_id: str) -> ManagerUser:
    """Disable a Manager user (their tokens stop working) or enable them again."""
    if status == "active":
        user, _ = _get_live(store, user_id)
        if user.password_hash is None:
            raise Conflict("This user has not accepted the invitation yet")
    return _modify(store, user_id, actor_id, {"status": status})


def check_active(*, store: BrandStore, user_id: str, token_level: str | None) -> str:
    """The level a Manager token may act with now: Unauthorized when the user is gone or disabled.

    For deps.manager_principal: a token carries the level it was issued with; the stored user
    decides (a lowered level applies at once, a raised one at the next sign-in).
    """
    try:
        user, _ = repository.get_manager_user(store=store, user_id=user_id)
    except NotFound as exc:
        raise Unauthorized("This Manager account no longer exists") from exc
    if user.status != "active":
        raise Unauthorized("This Manager account is disabled")
    if token_level in MANAGER_LEVELS and MANAGER_LEVELS.index(token_level) < MANAGER_LEVELS.index(user.level):
        return token_level
    return user.level


def create_active(
    *, store: BrandStore, hasher: BrandHasher, email: str, level: str, now: datetime, password: str | None = None,
    user_id: str | None = None,
) -> ManagerUser:
    """Create an active Manager user directly: the first operator or admin, from the CLI (no inviter exists yet)."""
    if level == "operator" and store.brand_id != PLATFORM_SCOPE:
        raise InvalidInput("Operators belong to the platform scope", errors=[{"field": "level", "message": "operator"}])
    address = normalise_email(email)
    email_hash = hasher("email", address)
    user = ManagerUser(id=user_id or f"mu-{uuid.uuid4().hex}", level=level, status="active", email=address,
                       email_hash=email_hash, password_hash=hash_password(password) if password else None,
                       created_at=now)
    if not repository.claim_key(store=store, kind=EMAIL_KEY, hashed=email_hash, owner_id=user.id,
                                owner_type="manager_user"):
        raise Conflict("This person already has access to this Manager")
    repository.save(store=store, container=repository.MANAGER_USERS, model=user, etag=None)
    return user

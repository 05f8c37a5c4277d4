"""A member's lifecycle: block, unsubscribe, end of contract, and the way back within the delay.

The rules are a table (`TRANSITIONS`) read by pure functions; the services load the member,
apply one rule and save with the etag read. Every change writes `statusChangedAt` and the
`retention` block the GDPR engine reads (`retention.dueAt` is indexed): unsubscription and end
of contract schedule the erasure `brand.retention.*_days` later, and until then the member
(unsubscription) or a Manager admin can take it back (Data Protection Guide v4, "Member
unsubscription" and "End of contract").
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.config import Settings
from shared.emails.service import enqueue_email
from shared.errors import Conflict
from shared.events.model import Publisher
from shared.identity import action_tokens, repository
from shared.identity.events import status_changed
from shared.identity.member_retention import RETENTION_RULES
from shared.identity.models import Member
from shared.ports.bus import MessageBus
from shared.ports.store import BrandStore
from shared.ports.store_retry import retrying

log = logging.getLogger(__name__)

Action = Literal["block", "unblock", "unsubscribe", "cancel_unsubscription", "end_contract", "reactivate"]
EndContractSource = Literal["manager", "sso", "api"]

CANCEL_UNSUBSCRIPTION = "unsubscription_cancel"  # the action-token purpose of the emailed cancel link
# The suspension notice's link: a suspended programme refuses sign-ins, so members leave by this link.
LEAVE_PROGRAMME = "programme_leave"



@dataclass(frozen=True)
class Transition:
    """Where an action may start from, where it leads, and which states it leaves unchanged."""

    sources: frozenset[str]
    target: str
    # Already there (or past it): the action is a no-op, so retried calls and replayed SSO events are safe.
    unchanged: frozenset[str] = frozenset()
    # Returning to active is only possible before the scheduled erasure.
    within_delay: bool = False


TRANSITIONS: dict[Action, Transition] = {
    "block": Transition(frozenset({"active"}), "blocked", unchanged=frozenset({"blocked"})),
    "unblock": Transition(frozenset({"blocked"}), "active", unchanged=frozenset({"active"})),
    "unsubscribe": Transition(frozenset({"active"}), "unsubscribed", unchanged=frozenset({"unsubscribed"})),
    "cancel_unsubscription": Transition(frozenset({"unsubscribed"}), "active", within_delay=True),
    # A member who left by themselves and whose contract then ends keeps the earlier deadline.
    "end_contract": Transition(
        frozenset({"active", "blocked", "pending_verification", "unsubscribed"}), "contract_ended",
        unchanged=frozenset({"contract_ended", "erased"}),
    ),
    "reactivate": Transition(frozenset({"contract_ended"}), "active", within_delay=True),
}


def _delay(brand: Brand, target: str) -> timedelta:
    days = brand.retention.unsubscription_days if target == "unsubscribed" else brand.retention.end_of_contract_days
    return timedelta(days=days)


def apply(member: Member, action: Action, *, now: datetime, brand: Brand | None = None) -> Member:
    """The member after `action` at `now` (pure); Conflict when the current status does not allow it."""
    rule = TRANSITIONS[action]
    if member.status in rule.unchanged:
        return member
    if member.status not in rule.sources:
        raise Conflict(f"A member who is {member.status} cannot be changed that way ({action})")
    if rule.within_delay and member.erasure_due_at is not None and now >= member.erasure_due_at:
        raise Conflict("Too late: the delay to take this back has passed and the data is being erased")
    changes: dict[str, Any] = {"status": rule.target, "status_changed_at": now}
    if rule.target in RETENTION_RULES:
        if brand is None:
            raise ValueError("scheduling an erasure needs the brand's retention settings")
        due = now + _delay(brand, rule.target)
        if member.erasure_due_at is not None:
            due = min(due, member.erasure_due_at)
        changes["erasure_due_at"] = due
    else:
        changes["erasure_due_at"] = None
    if rule.target != "active":
        # Nobody without access shows as reachable.
        changes.update(availability="offline", availability_until=None)
    return member.model_copy(update=changes)


def save_member(*, store: BrandStore, member: Member, etag: str | None) -> str:
    """Save a member (repository.to_document writes its `retention` block); the new etag."""
    return repository.save(store=store, container=repository.MEMBERS, model=member, etag=etag)


def _change(
    store: BrandStore, member_id: str, action: Action, now: datetime, brand: Brand | None
) -> tuple[Member, bool]:
    """Apply one action to the stored member; the result and whether anything changed."""
    # A concurrent writer (a profile edit, a login) makes the replace lose: read again and retry.
    def attempt() -> tuple[Member, bool]:
        member, etag = repository.get_member(store=store, member_id=member_id)
        updated = apply(member, action, now=now, brand=brand)
        if updated is member:
            return member, False
        save_member(store=store, member=updated, etag=etag)
        log.info("member %s of brand %s: %s -> %s (%s)", member_id, store.brand_id, member.status, updated.status,
                 action)
        return updated, True

    return retrying(attempt, attempts=3)  # the third lost race raises its EtagMismatch


def _transition(store: BrandStore, events: Publisher, member_id: str, action: Action, now: datetime,
                brand: Brand | None) -> tuple[Member, bool]:
    """Apply the action, then raise MemberStatusChanged while the member is where the action leads.

    Also when nothing changed because the member is there already: the retry of a call that crashed
    after its write raises the first try's event again (its id is the status and the instant written).
    """
    member, changed = _change(store, member_id, action, now, brand)
    if member.status == TRANSITIONS[action].target:
        events.publish(status_changed(store.brand_id, member, action=action, now=now))
    return member, changed


def block(*, store: BrandStore, events: Publisher, member_id: str, now: datetime) -> Member:
    """Block a member (Manager): no access until unblocked; nothing is scheduled for erasure."""
    return _transition(store, events, member_id, "block", now, None)[0]


def unblock(*, store: BrandStore, events: Publisher, member_id: str, now: datetime) -> Member:
    """Give a blocked member their access back."""
    return _transition(store, events, member_id, "unblock", now, None)[0]


def unsubscribe(*, store: BrandStore, events: Publisher, brand: Brand, member_id: str, now: datetime) -> Member:
    """The member leaves: access blocked at once, erasure due after the brand's unsubscription delay."""
    return _transition(store, events, member_id, "unsubscribe", now, brand)[0]


def cancel_unsubscription(*, store: BrandStore, events: Publisher, brand: Brand, member_id: str,
                          now: datetime) -> Member:
    """Take an unsubscription back before its erasure (the member's link or a Manager admin)."""
    return _transition(store, events, member_id, "cancel_unsubscription", now, brand)[0]


def end_contract(*, store: BrandStore, events: Publisher, brand: Brand, member_id: str, now: datetime,
                 source: str) -> Member:
    """End a member's contract (Manager, SSO or API): access blocked, erasure after the brand's delay; idempotent."""
    if source not in ("manager", "sso", "api"):
        raise ValueError(f"unknown end-of-contract source {source!r}")
    member = _transition(store, events, member_id, "end_contract", now, brand)[0]
    log.info("end of contract of member %s of brand %s requested by %s", member_id, store.brand_id, source)
    return member


def reactivate(*, store: BrandStore, events: Publisher, brand: Brand, member_id: str, now: datetime) -> Member:
    """Undo an end of contract within the delay: back to active, erasure no longer scheduled."""
    return _transition(store, events, member_id, "reactivate", now, brand)[0]


def unsubscribe_and_notify(
    *, store: BrandStore, events: Publisher, bus: MessageBus, settings: Settings, brand: Brand, member_id: str,
    now: datetime
) -> Member:
    """Unsubscribe the member and email them a single-use link to take it back before the erasure.

    The member has no App access from now on, so the link is the member's only way back; it
    expires when the erasure is due. Calling again changes nothing and sends nothing.
    """
    member, changed = _transition(store, events, member_id, "unsubscribe", now, brand)
    if not changed or not member.email or member.erasure_due_at is None:
        return member
    token = action_tokens.create(
        store=store, purpose=CANCEL_UNSUBSCRIPTION, subject=member.id, now=now, ttl=member.erasure_due_at - now
    )
    data: dict[str, Any] = {
        **brands.email_data(brand),
        "cancel_url": f"{settings.public_base_url.rstrip('/')}/app/{brand.id}/unsubscribe/cancel#token={token}",
        "erase_on": member.erasure_due_at.date().isoformat(),
    }
    enqueue_email(
        bus=bus, brand_id=brand.id, template="unsubscription_confirmation", to_email=member.email,
        to_name=member.first_name, locale=member.preferred_language or brand.default_locale, data=data,
        message_id=f"unsubscribe:{member.id}:{action_tokens.token_hash(token)[:16]}", settings=settings,
    )
    return member


def cancel_unsubscription_by_link(*, store: BrandStore, events: Publisher, brand: Brand, token: str,
                                  now: datetime) -> Member:
    """Take an unsubscription back with the emailed link: 422 unknown, 410 used or expired, 409 too late."""
    link = action_tokens.consume(store=store, purpose=CANCEL_UNSUBSCRIPTION, token=token, now=now)
    return cancel_unsubscription(store=store, events=events, brand=brand, member_id=link.subject, now=now)


def leave_link_token(*, store: BrandStore, member_id: str, now: datetime, until: datetime) -> str:
    """A single-use token for the suspension notice: the member leaves without signing in, until `until`."""
    return action_tokens.create(store=store, purpose=LEAVE_PROGRAMME, subject=member_id, now=now, ttl=until - now)


def unsubscribe_by_link(
    *, store: BrandStore, events: Publisher, bus: MessageBus, settings: Settings, brand: Brand, token: str,
    now: datetime
) -> Member:
    """Leave with the suspension notice's link: 422 unknown, 410 used or expired, 409 not active.

    The unsubscription (idempotent) comes before the link is used up, so a crash in between leaves a
    link that still works; two clicks at once both find the member unsubscribed.
    """
    link = action_tokens.peek(store=store, purpose=LEAVE_PROGRAMME, token=token, now=now)
    member = unsubscribe_and_notify(store=store, events=events, bus=bus, settings=settings, brand=brand,
                                    member_id=link.subject, now=now)
    with contextlib.suppress(action_tokens.LinkGone):  # the other click of a double click used it
        action_tokens.consume(store=store, purpose=LEAVE_PROGRAMME, token=token, now=now)
    return member

"""The CRM's contact lifecycle (guide v4, "Contacts retention"): its rules, declared on the retention framework.

- contact_never_invited: member opt-in "new", from creation: erased at contacts_never_invited_days (30).
- contact_invitation_pending: "invitation sent", from the first send: sent again at invitation_pending_days
  (15), once; "opt-out no action from an invitation email" at twice that.
- contact_email_unconfirmed: a pop-in's or form's contact pending email verification, from the first
  submission: erased at invitation_pending_days (15), "the same parameter" as the invitation's.
- contact_opted_out: any opted-out value, from the opt-out date: erased at opted_out_contacts_days (365).
- contact_inactive: everything else (opted in, storage only), from the last click or activity (else
  creation): erased at inactivity_days (1095).

"Erase" is the guide's "deleted (hashed)": `shared.crm.service.erase` keeps the keyed hashes (opt-out
checks, statistics) and clears the rest. An email open is not activity; a click or a like is.
These declarations are pure: the CRM stores each contact with the block they schedule (`home_block`),
and the retention runner does their due steps with shared.gdpr.retention.contact_rules.act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.brands.models import Brand, RetentionSettings
from shared.clock import parse_instant
from shared.crm import consent
from shared.crm.consent import Meaning, MemberOptIn
from shared.crm.models import CONTACTS
from shared.gdpr.retention.framework import Document, RetentionRule, Select, Step, block_for

FAMILY = "contacts"
CONTAINER = CONTACTS
INVITATION_TEMPLATE = "contact_invitation"

NEVER_INVITED = "contact_never_invited"
INVITATION_PENDING = "contact_invitation_pending"
EMAIL_UNCONFIRMED = "contact_email_unconfirmed"
OPTED_OUT = "contact_opted_out"
INACTIVE = "contact_inactive"

OPTED_OUT_VALUES = frozenset(v for v in MemberOptIn if consent.member_meaning(v) == Meaning.OPTED_OUT)
_SCHEDULED_ELSEWHERE = OPTED_OUT_VALUES | {MemberOptIn.NEW, MemberOptIn.INVITATION_SENT,
                                          MemberOptIn.OPT_IN_BLOG_PENDING}
INACTIVITY_VALUES = frozenset(MemberOptIn) - _SCHEDULED_ELSEWHERE


@dataclass(frozen=True)
class ContactSelect(Select):
    """Active contacts whose member opt-in is one of `opt_ins` (contacts have no roles)."""

    opt_ins: frozenset[str] = frozenset()

    def matches(self, doc: Document) -> bool:
        """Whether a stored contact is one this rule applies to."""
        return doc.get("status") in self.statuses and doc.get("memberOptIn") in self.opt_ins


def _select(values: frozenset[MemberOptIn]) -> ContactSelect:
    return ContactSelect(frozenset({"active"}), opt_ins=frozenset(v.value for v in values))


def _at(doc: Document, *path: str) -> datetime | None:
    value: Any = doc
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return parse_instant(value) if isinstance(value, str) and value else None


def _created(doc: Document) -> datetime | None:
    return _at(doc, "history", "createdAt")


def _last_activity(doc: Document) -> datetime | None:
    """The latest intentional interaction (a click or a like, never an open), else the creation."""
    dates = [d for d in (_at(doc, "lastActivityAt"), _at(doc, "interactions", "lastClickAt"), _created(doc)) if d]
    return max(dates) if dates else None


def _days(name: str, factor: int = 1):
    return lambda s: timedelta(days=factor * getattr(s, name))


def _erase_rule(name: str, values: frozenset[MemberOptIn], base, days: str, description: str) -> RetentionRule:
    return RetentionRule(name=name, family=FAMILY, container=CONTAINER, select=_select(values), base=base,
                         steps=(Step("erase", "erase", _days(days)),), description=description)


CONTACT_NEVER_INVITED = _erase_rule(
    NEVER_INVITED, frozenset({MemberOptIn.NEW}), _created, "contacts_never_invited_days",
    "new contacts to whom no invitation was sent within contacts_never_invited_days: erased (hashed)")

CONTACT_INVITATION_PENDING = RetentionRule(
    name=INVITATION_PENDING, family=FAMILY, container=CONTAINER,
    select=_select(frozenset({MemberOptIn.INVITATION_SENT})),
    base=lambda doc: _at(doc, "invitation", "sentAt"),
    steps=(
        Step("reinvite", "resend", _days("invitation_pending_days"), template=INVITATION_TEMPLATE),
        Step("opt_out", "opt_out", _days("invitation_pending_days", 2),
             gap=timedelta(days=1)),
    ),
    description="invitation unanswered for invitation_pending_days: sent again once; unanswered as long again: "
                "opt-out no action from an invitation email",
)

def confirmation_period(settings: RetentionSettings) -> timedelta:
    """How long a form's contact may take to confirm their address (the guide: the invitation's parameter)."""
    return timedelta(days=settings.invitation_pending_days)


CONTACT_EMAIL_UNCONFIRMED = RetentionRule(
    name=EMAIL_UNCONFIRMED, family=FAMILY, container=CONTAINER,
    select=_select(frozenset({MemberOptIn.OPT_IN_BLOG_PENDING})), base=_created,
    steps=(Step("erase", "erase", confirmation_period),),
    description="contacts of a pop-in or form who never confirmed their address within invitation_pending_days: "
                "erased (hashed)")

CONTACT_OPTED_OUT = _erase_rule(
    OPTED_OUT, OPTED_OUT_VALUES, lambda doc: _at(doc, "memberOptInAt") or _created(doc), "opted_out_contacts_days",
    "opted-out contacts (email hidden to the member): kept opted_out_contacts_days, then erased")

CONTACT_INACTIVE = _erase_rule(
    INACTIVE, INACTIVITY_VALUES, _last_activity, "inactivity_days",
    "contacts without a click or like for inactivity_days (opens do not count): erased (hashed)")

CONTACT_RULES: tuple[RetentionRule, ...] = (CONTACT_NEVER_INVITED, CONTACT_INVITATION_PENDING,
                                            CONTACT_EMAIL_UNCONFIRMED, CONTACT_OPTED_OUT, CONTACT_INACTIVE)


def rule_for(doc: Document) -> RetentionRule | None:
    """The rule a stored contact falls under now (None: erased or not active)."""
    return next((rule for rule in CONTACT_RULES if rule.select.matches(doc)), None)


def home_block(doc: Document, brand: Brand) -> Document:
    """The retention block a contact's state schedules: its rule's first step, dated from its base."""
    rule = rule_for(doc)
    base = rule.base(doc) if rule else None
    if rule is None or base is None:
        return {}
    first = rule.steps[0]
    settings: RetentionSettings = brand.retention
    return block_for(rule, first, since=base, due=rule.nominal(base, settings, first), prev_at=None)

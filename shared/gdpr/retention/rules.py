"""The retention rules of the Data Protection Guide v4, declared once (durations: brand.retention.*).

Members and external users follow per-document schedules (`RULES`); a brand's end of contract
and a programme suspension are brand-wide (`BRAND_RULES`): the brands run checks each brand's
status and erases everyone of that brand once the brand's own due date has passed.
The CRM's contact rules are declared in shared/crm/contact_schedule.py (family `contacts`) and registered here.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from shared.brands.models import RetentionSettings
from shared.clock import parse_instant
from shared.crm.contact_schedule import CONTACT_RULES
from shared.gdpr.erasure import BRAND_CONTRACT_ENDED, PROGRAMME_SUSPENSION
from shared.gdpr.retention.framework import Document, RetentionRule, Select, Step
from shared.identity.member_retention import INACTIVITY_RULE, INACTIVITY_STATUSES, RETENTION_RULES

# The erasure module gives both brand-wide rules their full erasure (names of people under contract,
# every contact): their names are its own.
EXTERNAL_USER_INACTIVE = "external_user_inactive"

WARNING_TEMPLATE = "retention_warning"
SUSPENSION_TEMPLATE = "programme_suspension"
FIRST_WARNING = timedelta(days=30)
SECOND_WARNING = timedelta(days=15)
MEMBER_STATUSES_TO_ERASE = frozenset({"pending_verification", "active", "blocked", "unsubscribed",
                                      "contract_ended"})
EXTERNAL_USER_STATUSES = frozenset({"active", "merged"})


def _instant(doc: Document, *fields: str) -> datetime | None:
    for name in fields:
        value = doc.get(name)
        if isinstance(value, str) and value:
            return parse_instant(value)
    return None


def _inactivity(settings: RetentionSettings) -> timedelta:
    return timedelta(days=settings.inactivity_days)


def _erase_on_due_date(name: str, status: str) -> RetentionRule:
    """Unsubscription and end of contract: the lifecycle dated the erasure (`erasureDueAt`)."""
    return RetentionRule(
        name=name, family="members", container="members", select=Select(frozenset({status})),
        base=lambda doc: _instant(doc, "erasureDueAt"),
        steps=(Step("erase", "erase", lambda _settings: timedelta(0)),),
        description=f"members {status}: erased at erasureDueAt (the brand's delay after the change; "
                    "taking it back before then clears it)",
    )


MEMBER_UNSUBSCRIBED = _erase_on_due_date(RETENTION_RULES["unsubscribed"], "unsubscribed")
MEMBER_CONTRACT_ENDED = _erase_on_due_date(RETENTION_RULES["contract_ended"], "contract_ended")

MEMBER_INACTIVE = RetentionRule(
    name=INACTIVITY_RULE, family="members", container="members", select=Select(INACTIVITY_STATUSES),
    # Last login (or verification); a member who never came back counts from signup.
    base=lambda doc: _instant(doc, "lastActivityAt", "createdAt"),
    steps=(
        Step("warning_1", "warn", lambda s: _inactivity(s) - FIRST_WARNING, template=WARNING_TEMPLATE),
        Step("warning_2", "warn", lambda s: _inactivity(s) - SECOND_WARNING, gap=SECOND_WARNING,
             template=WARNING_TEMPLATE),
        Step("erase", "erase", _inactivity, gap=SECOND_WARNING),
    ),
    description="members without a login for inactivity_days: warned 30 and 15 days before, then erased",
)

EXTERNAL_USER_INACTIVE_RULE = RetentionRule(
    name=EXTERNAL_USER_INACTIVE, family="external_users", container="visitors",
    select=Select(EXTERNAL_USER_STATUSES),
    base=lambda doc: _instant(doc, "lastInteractionAt"),
    steps=(Step("erase", "erase", _inactivity),),
    # One step one brand duration after an indexed field: that field's range is the due set.
    index="lastInteractionAt",
    description="external users without a widget interaction for inactivity_days: erased (no warning: "
                "no verified address)",
)

RULES: dict[str, RetentionRule] = {
    rule.name: rule
    for rule in (MEMBER_UNSUBSCRIBED, MEMBER_CONTRACT_ENDED, MEMBER_INACTIVE, EXTERNAL_USER_INACTIVE_RULE,
                 *CONTACT_RULES)
}


def rules_of(family: str) -> list[RetentionRule]:
    """The per-document rules a family's timer runs."""
    return [rule for rule in RULES.values() if rule.family == family]


def brand_contract_end_due(changed_at: datetime, settings: RetentionSettings) -> datetime:
    """When everyone of a brand whose contract ended is erased (an operator may set it active before)."""
    return changed_at + timedelta(days=settings.brand_contract_end_days)


def suspension_cap(changed_at: datetime, settings: RetentionSettings) -> datetime:
    """When everyone of a suspended programme is erased unless it resumed: the start (UTC) of the day
    `suspension_max_months` calendar months after the day of suspension.

    Suspended on 1 September, at any hour: erased from 1 March 00:00, so the daily run of 1 March
    erases, and nothing is kept past the guide's "maximum of 6 months". A day the target month lacks
    is its last day (31 August -> 28 or 29 February), never a day of the month after.
    """
    day = changed_at.astimezone(UTC).date() + relativedelta(months=settings.suspension_max_months)
    return datetime.combine(day, time(0), tzinfo=UTC)


# Brand-wide rules: brand status -> (rule name, due date of the brand's erasure).
BRAND_RULES = {
    "contract_ended": (BRAND_CONTRACT_ENDED, brand_contract_end_due),
    "suspended": (PROGRAMME_SUSPENSION, suspension_cap),
}

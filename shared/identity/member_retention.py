"""The `retention` block of a member document: the step the GDPR engine takes next, by status.

Pure rules, below the repository (which writes the block with every save of a member) and the
lifecycle services (which change the status the block follows).
"""

from __future__ import annotations

from typing import Any

from shared.clock import isoformat
from shared.identity.models import Member

# The retention rule the GDPR engine applies when `retention.dueAt` is reached, by status.
RETENTION_RULES = {"unsubscribed": "member_unsubscribed", "contract_ended": "member_contract_ended"}
# Every member who still has data and no scheduled erasure follows the 3-year inactivity rule.
INACTIVITY_RULE = "member_inactive"
INACTIVITY_STATUSES = frozenset({"pending_verification", "active", "blocked"})


def retention_block(member: Member) -> dict[str, Any]:
    """The `retention` field of a member document: its next retention step (nothing once erased).

    Unsubscription and end of contract: the erasure, dated. Otherwise the inactivity rule, whose
    dates depend on the brand's duration, which the savers of a member do not have: the block
    says "schedule from this base" and is due at once (no brand may warn earlier than the base),
    and the next retention run, which has the brand, stores the real step (shared.gdpr.retention).
    """
    rule = RETENTION_RULES.get(member.status)
    if rule and member.erasure_due_at:
        return {"dueAt": isoformat(member.erasure_due_at), "rule": rule}
    if member.status in INACTIVITY_STATUSES:
        base = isoformat(member.last_activity_at or member.created_at)
        return {"dueAt": base, "rule": INACTIVITY_RULE, "step": "schedule", "since": base}
    return {}

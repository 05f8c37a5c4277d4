"""Attribution: which member an order is credited to, and why, in a form a person can check.

The first rule that applies wins, each with its reason code:
1. vendor — a phygital or direct sale by a named vendor member;
2. voucher — an in-store purchase with a voucher whose contact belongs to a member;
3. last_click — the signed attribution reference the shop kept, clicked within the brand's
   attribution window before the order (a link disabled since still counts: the click happened
   while it was live, since the redirect gives no reference for a disabled code);
4. last_click — else the latest visit recorded for the customer's or visitor's key in the window;
5. conversation — else the latest conversation with a member in the window (registered lookups);
6. dedicated_member — else the customer's dedicated member (given one now by the brand's automatic
   rule if they have none: `home_store` takes the order's store; shared/sales/dedicated.py);
7. none.
Only an active member earns: a rule naming a blocked, unsubscribed, ended or erased member is
skipped (and said so in the explanation) and the next rule is tried. Nor does a click the tracking
queue refused as a self-click or a flood: rules 3 and 4 skip a reference or a visit of such a click
(`click_verdicts`, noted as `click-rejected` with the reason) and the next rule, or an older visit,
is tried. A click the queue has not judged yet (or never received) is not refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.brands.models import Brand
from shared.clock import isoformat
from shared.errors import NotFound
from shared.identity import repository
from shared.ports.store import BrandStore
from shared.sales import conversations, dedicated
from shared.tracking import click_verdicts, link_codes, reference, visits
from shared.tracking.models import NO_SOURCE, NO_TARGET, AttributionReason


@dataclass(frozen=True)
class OrderFacts:
    """What attribution reads of an order; keys are already keyed hashes."""

    channel: str
    placed_at: datetime
    attribution_ref: str | None = None
    customer_key: str | None = None
    visitor_key: str | None = None
    vendor_member_id: str | None = None
    voucher_member_id: str | None = None
    voucher_id: str | None = None
    store_id: str | None = None


class Attribution(BaseModel):
    """The decision stored on the order: member (or None), reason code, link dimensions, explanation."""

    model_config = ConfigDict(populate_by_name=True)

    member_id: str | None = Field(None, alias="memberId")
    reason: AttributionReason = "none"
    source: str = NO_SOURCE
    target_kind: str = Field(NO_TARGET, alias="targetKind")
    explanation: dict[str, Any] = Field(default_factory=dict)


@dataclass
class _Run:
    store: BrandStore
    facts: OrderFacts
    since: datetime
    window_days: int
    notes: list[dict[str, Any]] = field(default_factory=list)

    def active(self, member_id: str, reason: str) -> bool:
        try:
            member, _ = repository.get_member(store=self.store, member_id=member_id)
        except NotFound:
            member = None
        if member is not None and member.status == "active":
            return True
        self.notes.append({"rule": reason, "memberId": member_id, "skipped": "member-not-active"})
        return False

    def genuine(self, click_id: str, clicked_at: datetime) -> bool:
        """False (and noted once) when the tracking queue refused this click in a way that does not earn."""
        why = click_verdicts.rejected(store=self.store, click_id=click_id, clicked_at=clicked_at)
        if why is None:
            return True
        note = {"rule": "last_click", "skipped": "click-rejected", "why": why, "clickId": click_id}
        if note not in self.notes:
            self.notes.append(note)
        return False

    def decide(self, member_id: str, reason: AttributionReason, source: str = NO_SOURCE,
               target_kind: str = NO_TARGET, **facts: Any) -> Attribution:
        explanation = {"windowDays": self.window_days, "placedAt": isoformat(self.facts.placed_at), **facts}
        if self.notes:
            explanation["notes"] = self.notes
        return Attribution(member_id=member_id, reason=reason, source=source, target_kind=target_kind,
                           explanation=explanation)


def _days_before(run: _Run, at: datetime) -> float:
    return round((run.facts.placed_at - at).total_seconds() / 86400, 2)


def _by_reference(run: _Run, platform: BrandStore, brand_id: str, master_key: str) -> Attribution | None:
    if not run.facts.attribution_ref:
        return None
    ref = reference.verify(master_key, brand_id, run.facts.attribution_ref)
    link = link_codes.find(platform=platform, code=ref.code) if ref else None
    if ref is None or link is None or link.brand != brand_id:
        run.notes.append({"rule": "last_click", "skipped": "attribution-ref-invalid"})
        return None
    if not run.since <= ref.clicked_at <= run.facts.placed_at:
        run.notes.append({"rule": "last_click", "skipped": "click-outside-window",
                          "clickedAt": isoformat(ref.clicked_at)})
        return None
    if not run.genuine(ref.click_id, ref.clicked_at) or not run.active(link.member_id, "last_click"):
        return None
    return run.decide(link.member_id, "last_click", link.source, link.target_kind, via="attribution_ref",
                      code=link.code, clickId=ref.click_id, clickedAt=isoformat(ref.clicked_at),
                      daysBeforeOrder=_days_before(run, ref.clicked_at), linkStatus=link.status)


def _by_visit(run: _Run) -> Attribution | None:
    def genuine(visit: visits.VisitRecord) -> bool:
        return run.genuine(visit.click_id, visit.at)

    found = [visit for key in (run.facts.customer_key, run.facts.visitor_key) if key
             and (visit := visits.last_visit(store=run.store, visitor_key=key, since=run.since,
                                             until=run.facts.placed_at,
                                             keep=genuine))]
    if not found:
        return None
    visit = max(found, key=lambda item: item.at)
    if not run.active(visit.member_id, "last_click"):
        return None
    keyed_by = "customer" if visit.visitor_key == run.facts.customer_key else "visitor"
    return run.decide(visit.member_id, "last_click", visit.source, visit.target_kind, via="visit", keyedBy=keyed_by,
                      code=visit.code, clickId=visit.click_id, clickedAt=isoformat(visit.at),
                      daysBeforeOrder=_days_before(run, visit.at), internal=visit.internal)


def _by_conversation(run: _Run) -> Attribution | None:
    keys = [key for key in (run.facts.customer_key, run.facts.visitor_key) if key]
    hit = conversations.latest(store=run.store, keys=keys, since=run.since, until=run.facts.placed_at) if keys else None
    if hit is None or not run.active(hit.member_id, "conversation"):
        return None
    return run.decide(hit.member_id, "conversation", conversationId=hit.conversation_id,
                      conversationAt=isoformat(hit.at), daysBeforeOrder=_days_before(run, hit.at))


def attribute(*, store: BrandStore, platform: BrandStore, brand: Brand, master_key: str,
              facts: OrderFacts) -> Attribution:
    """Apply the rules in order; the first that names an active member wins, else reason "none"."""
    window = brand.attribution_window_days
    run = _Run(store=store, facts=facts, since=facts.placed_at - timedelta(days=window), window_days=window)
    if facts.vendor_member_id and run.active(facts.vendor_member_id, "vendor"):
        return run.decide(facts.vendor_member_id, "vendor", channel=facts.channel)
    if facts.voucher_member_id and run.active(facts.voucher_member_id, "voucher"):
        return run.decide(facts.voucher_member_id, "voucher", channel=facts.channel, voucherId=facts.voucher_id)
    for rule in (lambda: _by_reference(run, platform, brand.id, master_key), lambda: _by_visit(run),
                 lambda: _by_conversation(run)):
        if (decided := rule()) is not None:
            return decided
    if facts.customer_key and (found := dedicated.by_rule(store=store, brand=brand, key=facts.customer_key,
                                                         now=facts.placed_at, store_id=facts.store_id)):
        if run.active(found["memberId"], "dedicated_member"):
            return run.decide(found["memberId"], "dedicated_member", dedicatedBy=found["source"])
    explanation: dict[str, Any] = {"windowDays": window, "placedAt": isoformat(facts.placed_at)}
    if run.notes:
        explanation["notes"] = run.notes
    return Attribution(explanation=explanation)

"""Campaign dashboards from pre-aggregated counters (never by scanning contacts or events).

Two kinds of counter documents live in container "campaigns", next to the campaigns:
- f"stats:{campaign_id}" (kind "campaign-stats"): one campaign's totals;
- f"member-stats:{member_id}:{YYYY-MM-DD}" (kind "member-day-stats"): a member's totals for the
  campaigns SENT that UTC day (cohort by send day, so a rate never mixes two populations).
They are only changed by `store.patch` incr operations (atomic, no read-modify-write race).
Every counter counts a recipient at most once per campaign (a marker document per campaign,
contact and counter), so "opened" is unique opens and every rate stays between 0 and 1.
See docs/crm-dashboards.md.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any

from pydantic import Field

from shared.errors import InvalidInput, NotFound
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, DocumentConflict, Filter, PatchOp

log = logging.getLogger(__name__)

CAMPAIGNS = "campaigns"
CAMPAIGN_KIND = "campaign-stats"
MEMBER_DAY_KIND = "member-day-stats"
MARK_KIND = "campaign-stats-mark"
COUNTERS = ("sent", "delivered", "opened", "clicked", "bounced", "complaints", "unsubscribed")
# Provider event → counter. Mailjet "sent" means accepted by the recipient's server: delivered.
# "blocked" (Mailjet refused to send) is counted as a bounce: the email never arrived.
EVENT_COUNTERS = {"sent": "delivered", "open": "opened", "click": "clicked", "bounce": "bounced",
                  "blocked": "bounced", "spam": "complaints", "unsub": "unsubscribed"}
MAX_RANGE_DAYS = 366
PAGE = 500
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CampaignRates(CamelModel):
    """Ratios of the counters; null when the denominator is 0."""

    open_rate: float | None = Field(None, description="opened / delivered")
    click_rate: float | None = Field(None, description="clicked / delivered")
    click_to_open_rate: float | None = Field(None, description="clicked / opened")
    delivery_rate: float | None = Field(None, description="delivered / sent")
    bounce_rate: float | None = Field(None, description="bounced / sent")
    complaint_rate: float | None = Field(None, description="complaints / delivered")
    unsubscribe_rate: float | None = Field(None, description="unsubscribed / delivered")


class Stats(CamelModel):
    """Counters (each recipient counted once per campaign) and their rates."""

    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    complaints: int = 0
    unsubscribed: int = 0
    rates: CampaignRates = Field(default_factory=CampaignRates)


class CampaignStats(Stats):
    campaign_id: str
    sent_on: str = Field(description="UTC day the campaign was sent (YYYY-MM-DD)")


class MemberStats(Stats):
    member_id: str


class RangeStats(Stats):
    from_day: str = Field(alias="from")
    to_day: str = Field(alias="to")


class BrandRangeStats(RangeStats):
    by_member: list[MemberStats] = Field(default_factory=list)


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _with_rates(counts: dict[str, int]) -> dict[str, Any]:
    c = {name: int(counts.get(name, 0) or 0) for name in COUNTERS}
    rates = CampaignRates(
        open_rate=_ratio(c["opened"], c["delivered"]), click_rate=_ratio(c["clicked"], c["delivered"]),
        click_to_open_rate=_ratio(c["clicked"], c["opened"]),
        delivery_rate=_ratio(c["delivered"], c["sent"]), bounce_rate=_ratio(c["bounced"], c["sent"]),
        complaint_rate=_ratio(c["complaints"], c["delivered"]),
        unsubscribe_rate=_ratio(c["unsubscribed"], c["delivered"]))
    return {**c, "rates": rates}


def campaign_stats_id(campaign_id: str) -> str:
    """The id of a campaign's counter document."""
    return f"stats:{campaign_id}"


def member_day_id(member_id: str, day: str) -> str:
    """The id of a member's counter document for one UTC day."""
    return f"member-stats:{member_id}:{day}"


def _ensure(store: BrandStore, doc: dict[str, Any]) -> None:
    """Create the zeroed counter document unless it exists (a concurrent creator wins harmlessly)."""
    if store.find(CAMPAIGNS, doc["id"]) is not None:
        return
    try:
        store.create(CAMPAIGNS, {**doc, **{name: 0 for name in COUNTERS}})
    except DocumentConflict:
        pass


def _incr(store: BrandStore, *, campaign_id: str, member_id: str, day: str, counter: str, count: int) -> None:
    _ensure(store, {"id": campaign_stats_id(campaign_id), "kind": CAMPAIGN_KIND, "campaignId": campaign_id,
                    "statsMemberId": member_id, "sentOn": day})
    store.patch(CAMPAIGNS, campaign_stats_id(campaign_id), [PatchOp("incr", counter, count)])
    # memberId + createdAt (the day) are the container's indexed paths: the range query uses them.
    _ensure(store, {"id": member_day_id(member_id, day), "kind": MEMBER_DAY_KIND, "memberId": member_id,
                    "createdAt": day})
    store.patch(CAMPAIGNS, member_day_id(member_id, day), [PatchOp("incr", counter, count)])


def record_sent(*, store: BrandStore, campaign_id: str, member_id: str, sent_at: datetime, count: int) -> None:
    """Count the recipients a new campaign was enqueued for (call once, when the campaign is first recorded)."""
    _incr(store, campaign_id=campaign_id, member_id=member_id, day=sent_at.date().isoformat(), counter="sent",
          count=count)


def record_event(*, store: BrandStore, event: str, campaign_id: str, contact_id: str) -> bool:
    """Count one provider event of a campaign recipient, once per contact and counter; True when counted."""
    counter = EVENT_COUNTERS.get(event)
    if counter is None:
        return False
    stats = store.find(CAMPAIGNS, campaign_stats_id(campaign_id))
    if stats is None:
        return False  # not a campaign of ours (or sent before dashboards existed)
    mark_id = f"stats-mark:{campaign_id}:{contact_id}:{counter}"
    try:
        store.create(CAMPAIGNS, {"id": mark_id, "kind": MARK_KIND})
    except DocumentConflict:
        return False  # this recipient was already counted for this counter
    try:
        _incr(store, campaign_id=campaign_id, member_id=stats["statsMemberId"], day=stats["sentOn"],
              counter=counter, count=1)
    except Exception:
        store.delete(CAMPAIGNS, mark_id)  # not counted: let the redelivered event count it
        raise
    return True


def for_campaign(*, store: BrandStore, member_id: str, campaign_id: str) -> CampaignStats:
    """One of the member's campaigns; another member's (or unknown) campaign raises NotFound."""
    campaign = store.find(CAMPAIGNS, campaign_id)
    if campaign is None or campaign.get("memberId") != member_id or "kind" in campaign:
        raise NotFound("No such campaign")
    stats = store.find(CAMPAIGNS, campaign_stats_id(campaign_id)) or {}
    sent_on = stats.get("sentOn") or str(campaign.get("createdAt", ""))[:10]
    return CampaignStats(campaign_id=campaign_id, sent_on=sent_on, **_with_rates(stats))


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD day of a query (None when absent); 422 names the field."""
    if value is None:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Invalid date", errors=[{"field": field, "message": "expected YYYY-MM-DD"}]) from None


def parse_range(from_day: str | None, to_day: str | None, today: date) -> tuple[str, str]:
    """Validate a from/to pair of YYYY-MM-DD days (default: the last 30 days); 422 names the field."""
    end = parse_day(to_day, "to") or today
    start = parse_day(from_day, "from") or date.fromordinal(end.toordinal() - 29)
    if start > end:
        raise InvalidInput("Invalid range", errors=[{"field": "from", "message": "must not be after to"}])
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput("Range too long", errors=[{"field": "from", "message": f"at most {MAX_RANGE_DAYS} days"}])
    return start.isoformat(), end.isoformat()


def _day_docs(store: BrandStore, start: str, end: str, member_id: str | None) -> list[dict[str, Any]]:
    filters = [Filter("createdAt", ">=", start), Filter("createdAt", "<=", end)]
    if member_id is not None:
        filters.insert(0, Filter("memberId", "=", member_id))
    docs: list[dict[str, Any]] = []
    continuation = None
    while True:
        page = store.query(CAMPAIGNS, filters=filters, page_size=PAGE, continuation=continuation)
        # Campaigns themselves carry a full timestamp in createdAt and no kind: keep counter documents only.
        docs += [doc for doc in page.items if doc.get("kind") == MEMBER_DAY_KIND]
        continuation = page.continuation
        if continuation is None:
            return docs


def _sum(docs: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(int(doc.get(name, 0) or 0) for doc in docs) for name in COUNTERS}


def for_member(*, store: BrandStore, member_id: str, start: str, end: str) -> RangeStats:
    """A member's totals over the campaigns they sent between two UTC days (inclusive)."""
    return RangeStats(from_day=start, to_day=end, **_with_rates(_sum(_day_docs(store, start, end, member_id))))


def for_brand(*, store: BrandStore, start: str, end: str) -> BrandRangeStats:
    """The brand's totals and each member's over the campaigns sent between two UTC days (inclusive)."""
    docs = _day_docs(store, start, end, None)
    by_member: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_member.setdefault(doc["memberId"], []).append(doc)
    members = [MemberStats(member_id=member_id, **_with_rates(_sum(items)))
               for member_id, items in sorted(by_member.items())]
    return BrandRangeStats(from_day=start, to_day=end, by_member=members, **_with_rates(_sum(docs)))

"""Tracking dashboards of a member and of the Manager, read from the pre-aggregated counters only.

Every view reads counter documents of `shared.tracking.counters` (never the events): one query per
month partition of the range, filtered on the indexed `memberId`. The brand's views read the
roll-ups (memberId "*"), so their cost does not grow with the number of members; by-day charts and
the ranking of members read the day totals (one document per member, or the brand, and day). See
docs/tracking-dashboards.md for the cost of each view.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from pydantic import Field

from shared.errors import InvalidInput, NotFound
from shared.gdpr import restriction
from shared.identity import repository
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, Filter
from shared.tracking import counters
from shared.tracking.counters import BRAND_ROLLUP
from shared.tracking.models import NO_SOURCE, NO_TARGET, SOURCES, TARGET_KINDS

PAGE = 1000  # the store's largest page: fewer round trips
MAX_MEMBERS_PAGE = 100
# sortBy values of the by-member view; "sales" and "commission" sort on one currency.
SORT_KEYS = ("clicks", "externalVisits", "internalVisits", "pageViews", "productPicks", "orders", "refunds",
             "sales", "commission")
_MONEY_SORT = {"sales": "salesMinor", "commission": "commissionMinor"}
# Every source and target kind is listed (zeroes included) so charts keep a stable legend;
# "none" holds sales that came without a link (conversation, dedicated member, vendor).
ALL_SOURCES = (*SOURCES, NO_SOURCE)
ALL_TARGET_KINDS = (*TARGET_KINDS, NO_TARGET)

Sums = dict[str, Any]  # counter field -> int, money field -> {currency: minor units}


class Counts(CamelModel):
    """Counts of a period, and money per ISO currency in minor units (never added across currencies)."""

    clicks: int = Field(0, description="Counted clicks (external + internal visits)")
    external_visits: int = Field(0, description="Clicks from outside Popsell: new traffic")
    internal_visits: int = Field(0, description="Clicks from inside the App or a widget")
    rejected_clicks: int = Field(0, description="Self-clicks and click floods, never counted as clicks")
    page_views: int = 0
    product_picks: int = 0
    orders: int = Field(0, description="Attributed orders, net of cancellations")
    refunds: int = 0
    sales_minor: dict[str, int] = Field(default_factory=dict, description="Sales per currency, minor units")
    commission_minor: dict[str, int] = Field(default_factory=dict, description="Commissions per currency, minor units")


class TrafficRates(CamelModel):
    """Ratios of the totals; null when the denominator is 0."""

    orders_per_click: float | None = Field(None, description="orders / clicks")
    refunds_per_order: float | None = Field(None, description="refunds / orders")
    page_views_per_click: float | None = Field(None, description="pageViews / clicks")
    product_picks_per_click: float | None = Field(None, description="productPicks / clicks")
    external_share: float | None = Field(None, description="externalVisits / clicks")


class DayCounts(Counts):
    day: str = Field(description="UTC day, YYYY-MM-DD")


class SourceCounts(Counts):
    source: str


class TargetKindCounts(Counts):
    target_kind: str


class Dashboard(CamelModel):
    """Totals, rates and breakdowns of a period; every day of the range is listed, zeroes included."""

    from_day: str = Field(alias="from")
    to_day: str = Field(alias="to")
    totals: Counts
    rates: TrafficRates
    by_source: list[SourceCounts]
    by_target_kind: list[TargetKindCounts]
    by_day: list[DayCounts]


class MemberTotals(Counts):
    member_id: str
    first_name: str | None = None
    last_name: str | None = None
    rates: TrafficRates = Field(default_factory=TrafficRates)


class MemberTotalsPage(CamelModel):
    """One page of members' totals, best first; pass `continuation` back for the next page."""

    from_day: str = Field(alias="from")
    to_day: str = Field(alias="to")
    sort_by: str
    currency: str | None = Field(None, description="Currency of a sales/commission sort (null: no money yet)")
    source: str | None = None
    members_total: int = Field(description="Members with counters in the range (and source)")
    items: list[MemberTotals]
    continuation: str | None = None


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def rates_of(sums: Sums) -> TrafficRates:
    """The rates of a record of sums."""
    clicks = sums["clicks"]
    return TrafficRates(orders_per_click=_ratio(sums["orders"], clicks),
                 refunds_per_order=_ratio(sums["refunds"], sums["orders"]),
                 page_views_per_click=_ratio(sums["pageViews"], clicks),
                 product_picks_per_click=_ratio(sums["productPicks"], clicks),
                 external_share=_ratio(sums["externalVisits"], clicks))


def _months(start: str, end: str) -> list[str]:
    """The first day of every month the range touches (one partition each)."""
    month, last = date.fromisoformat(start[:8] + "01"), date.fromisoformat(end[:8] + "01")
    months = []
    while month <= last:
        months.append(month.isoformat())
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _days(start: str, end: str) -> list[str]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)]


def read_counters(*, store: BrandStore, start: str, end: str, member_id: str | None,
                  fields: tuple[str, ...] | None, totals: bool = False) -> Iterator[dict[str, Any]]:
    """Counter documents of one member (or "*": the roll-ups; None: every member) between two days:
    by source and target, or with `totals` the day totals (one document per member and day)."""
    partition = counters.totals_partition if totals else counters.partition
    if member_id is None:
        filters = [Filter("memberId", "!=", BRAND_ROLLUP), Filter("day", ">=", start), Filter("day", "<=", end)]
    else:
        # memberId alone: with a day range too, the embedded store's planner picks the day index and
        # sorts the whole month; a month of one member (or of roll-ups) is small, days are cut here.
        filters = [Filter("memberId", "=", member_id)]
    for month in _months(start, end):
        continuation = None
        while True:
            # Ordered by memberId so the store walks the memberId index instead of the month in id order.
            page = store.query(counters.CONTAINER, pk=partition(store.brand_id, month), filters=filters,
                               order_by="memberId", fields=fields, page_size=PAGE, continuation=continuation)
            yield from (doc for doc in page.items if start <= doc.get("day", "") <= end)
            continuation = page.continuation
            if continuation is None:
                break


def dashboard(*, store: BrandStore, member_id: str, start: str, end: str) -> Dashboard:
    """A member's dashboard (or the brand's with member_id "*": its roll-ups) between two UTC days."""
    days = _days(start, end)
    by_day = {day: counters.blank() for day in days}
    by_source = {source: counters.blank() for source in ALL_SOURCES}
    by_target = {kind: counters.blank() for kind in ALL_TARGET_KINDS}
    # Whole documents: they are small, and a 13-field projection costs the embedded store twice the time.
    # Days from the day totals (one document a day); sources and targets from the detailed counters.
    for doc in read_counters(store=store, start=start, end=end, member_id=member_id, fields=None, totals=True):
        counters.add(by_day.setdefault(doc["day"], counters.blank()), doc)
    for doc in read_counters(store=store, start=start, end=end, member_id=member_id, fields=None):
        counters.add(by_source.setdefault(doc.get("source") or NO_SOURCE, counters.blank()), doc)
        counters.add(by_target.setdefault(doc.get("targetKind") or NO_TARGET, counters.blank()), doc)
    totals = counters.blank()
    for sums in by_day.values():
        counters.add(totals, sums)
    return Dashboard(
        from_day=start, to_day=end, totals=Counts.model_validate(totals), rates=rates_of(totals),
        by_source=[SourceCounts.model_validate({**sums, "source": key}) for key, sums in by_source.items()],
        by_target_kind=[TargetKindCounts.model_validate({**sums, "targetKind": key})
                        for key, sums in by_target.items()],
        by_day=[DayCounts.model_validate({**by_day[day], "day": day}) for day in days],
    )


def member_dashboard(*, store: BrandStore, member_id: str, start: str, end: str) -> Dashboard:
    """A member's dashboard for the Manager's drill-down; an unknown or restricted member raises NotFound."""
    doc = None if member_id == BRAND_ROLLUP else store.find(repository.MEMBERS, member_id)
    if doc is None or restriction.carried(doc):
        raise NotFound("Member not found")
    return dashboard(store=store, member_id=member_id, start=start, end=end)


def _check_choice(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(f"Invalid {field}", errors=[{"field": field, "message": "one of " + ", ".join(allowed)}])


def _offset(continuation: str | None) -> int:
    if continuation is None:
        return 0
    if not continuation.isdigit() or len(continuation) > 9:
        raise InvalidInput("Invalid continuation", errors=[{"field": "continuation", "message": "not a token we gave"}])
    return int(continuation)


def _sort_currency(ranking: dict[str, dict[str, int]], currency: str | None) -> str | None:
    """The currency given, else the one with the largest total (ties: alphabetical)."""
    if currency is not None:
        return currency
    overall: dict[str, int] = {}
    for money in ranking.values():
        for code, amount in money.items():
            overall[code] = overall.get(code, 0) + amount
    return min(overall, key=lambda code: (-overall[code], code)) if overall else None


def members_totals(*, store: BrandStore, start: str, end: str, sort_by: str = "clicks", source: str | None = None,
                   currency: str | None = None, limit: int = 50, continuation: str | None = None) -> MemberTotalsPage:
    """Each member's totals between two days (optionally of one source), sorted best first, one page."""
    _check_choice(sort_by, SORT_KEYS, "sortBy")
    _check_choice(source, ALL_SOURCES, "source")
    if currency is not None and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise InvalidInput("Invalid currency", errors=[{"field": "currency", "message": "an ISO 4217 code, e.g. EUR"}])
    if not 1 <= limit <= MAX_MEMBERS_PAGE:
        raise InvalidInput("Invalid limit", errors=[{"field": "limit", "message": f"1 to {MAX_MEMBERS_PAGE}"}])
    offset = _offset(continuation)
    money_field = _MONEY_SORT.get(sort_by)
    sort_field = money_field or sort_by
    # Without a source, the members' day totals hold everything (one document per member and day):
    # one pass sums them whole. With a source, the detailed counters are ranked on the sort field,
    # then the page's members (≤ limit) are summed from their own documents.
    fields = None if source is None else ("memberId", "day", "source", sort_field)
    ranking: dict[str, Any] = {}
    whole: dict[str, Sums] = {}
    for doc in read_counters(store=store, start=start, end=end, member_id=None, fields=fields, totals=source is None):
        if source is not None and (doc.get("source") or NO_SOURCE) != source:
            continue
        member_id = doc["memberId"]
        if source is None:
            counters.add(whole.setdefault(member_id, counters.blank()), doc)
        if money_field:
            money = ranking.setdefault(member_id, {})
            for code, amount in (doc.get(money_field) or {}).items():
                money[code] = money.get(code, 0) + int(amount)
        else:
            ranking[member_id] = ranking.get(member_id, 0) + int(doc.get(sort_field) or 0)
    # Restricted members (GDPR article 18) leave the personal ranking; the brand's roll-ups still count them.
    for member_id in restriction.restricted_member_ids(store=store):
        ranking.pop(member_id, None)
    sort_currency = _sort_currency(ranking, currency) if money_field else None

    def score(item: tuple[str, Any]) -> tuple[int, str]:
        member_id, value = item
        return -(value.get(sort_currency, 0) if money_field else value), member_id

    ranked = sorted(ranking.items(), key=score)
    items = [_member_totals(store, member_id, start=start, end=end, source=source, sums=whole.get(member_id))
             for member_id, _ in ranked[offset:offset + limit]]
    following = offset + limit if offset + limit < len(ranked) else None
    return MemberTotalsPage(from_day=start, to_day=end, sort_by=sort_by, currency=sort_currency, source=source,
                            members_total=len(ranked), items=items,
                            continuation=None if following is None else str(following))


def _member_totals(store: BrandStore, member_id: str, *, start: str, end: str, source: str | None,
                   sums: Sums | None) -> MemberTotals:
    if sums is None:
        sums = counters.blank()
        for doc in read_counters(store=store, start=start, end=end, member_id=member_id, fields=None):
            if source is None or (doc.get("source") or NO_SOURCE) == source:
                counters.add(sums, doc)
    return MemberTotals.model_validate({**sums, "memberId": member_id, **_names(store, member_id),
                                        "rates": rates_of(sums)})


def _names(store: BrandStore, member_id: str) -> dict[str, str | None]:
    """The names the Manager already sees in its member list; none for a member erased since."""
    member = store.find(repository.MEMBERS, member_id)
    if member is None:
        return {}
    return {"firstName": member.get("firstName"), "lastName": member.get("lastName")}

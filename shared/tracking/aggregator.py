"""The `tracking-events` queue function: a batch of events becomes counter increments and visit records.

Per batch: malformed messages are rejected one by one (dead-lettered); per event, an event
already in `tracking_seen` is skipped; the rest are judged (abuse rules for clicks, the signed
reference for page views and picks), visit records are written, the domain events of what
counts are published (`shared.tracking.events`: LinkClicked, PageViewed, ProductPicked; and
VisitorBrowsed for every page or pick of a keyed visitor, referred or not, the hot list's feed), every
event is claimed in `tracking_seen` (a `create`: one consumer wins, `click_verdicts`), and the
increments of the claimed events, merged, are applied once per distinct counter. Events of a batch are judged in
order: a page view after its click in the same batch knows that click's verdict. A click refused
as a self-click or a flood keeps its verdict in its claim for the brand's attribution window, and a
page view of such a click records no visit (attribution checks the verdict too, for the page view
that came first).

Crash between steps, the trade-off chosen: counters NEVER DOUBLE COUNT, attribution is NEVER
LOST. Visit records are idempotent by themselves (one per click and visitor) and written before
the claim, so a retry writes them again harmlessly. Counter increments are applied after the
claims: a crash (or a store failure) after claiming and before the patches loses those events'
counts (at most one batch, rare, shown as an under-count in a dashboard) but a redelivery can
never add them twice. A failure before the claims leaves nothing claimed, so the retry is
clean. Claims live SEEN_TTL, far past Service Bus duplicate detection (10 minutes) and the
redelivery horizon (10 deliveries, one-minute locks), with room for a dead-lettered batch
resubmitted within the week; the claim of a click refused as a self-click or a flood lives the
brand's attribution window, as long as that click's reference could attribute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import ValidationError

from shared.brands import service as brands
from shared.brands.models import Brand
from shared.errors import NotFound, PermanentError
from shared.events.model import DomainEvent, event_id
from shared.ports.bus import ReceivedMessage
from shared.ports.platform import Platform
from shared.ports.store import BrandStore
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import abuse, click_verdicts, counters, link_codes, reference, visits
from shared.tracking.events import LinkClicked, PageViewed, ProductPicked, VisitorBrowsed
from shared.tracking.messages import PageViewEvent, ProductPickEvent, VisitEvent, parse
from shared.tracking.models import NO_SOURCE, NO_TARGET, day_of

log = logging.getLogger(__name__)

# A reference dated a little after the event is clock skew between servers, not a forgery.
_SKEW = timedelta(minutes=5)

Event = VisitEvent | PageViewEvent | ProductPickEvent
Referred = tuple[reference.Reference, link_codes.LinkCode]


@dataclass
class BatchResult:
    """What one batch did: rejected messages (id -> exception) and figures for logs and benchmarks."""

    rejected: dict[str, Exception] = field(default_factory=dict)
    events: int = 0
    duplicates: int = 0
    counted_clicks: int = 0
    rejected_clicks: int = 0
    ignored: int = 0
    visit_records: int = 0
    distinct_counters: int = 0
    counter_writes: int = 0


class _BrandContext:
    """One brand's handles and per-batch caches (links, members, login prints)."""

    def __init__(self, store: BrandStore, platform: BrandStore, brand: Brand, master_key: str, now: datetime) -> None:
        self.store, self.platform, self.brand, self.master_key = store, platform, brand, master_key
        self.prints = abuse.LoginPrints(store, since=now - abuse.SELF_CLICK_LOOKBACK)
        self._links: dict[str, link_codes.LinkCode | None] = {}
        self._members: dict[str, bool] = {}
        self.clicks: dict[str, dict] = {}  # click id -> {"internal", "rejected"} judged in this batch

    def link(self, code: str) -> link_codes.LinkCode | None:
        if code not in self._links:
            found = link_codes.find(platform=self.platform, code=code)
            self._links[code] = found if found is not None and found.brand == self.brand.id else None
        return self._links[code]

    def active_member(self, member_id: str) -> bool:
        if member_id not in self._members:
            doc = self.store.find("members", member_id)
            self._members[member_id] = bool(doc and doc.get("status") == "active")
        return self._members[member_id]

    def referred(self, event: PageViewEvent | ProductPickEvent) -> Referred | None:
        """The verified click and link an event's reference names, within the attribution window; else None."""
        if not event.reference:
            return None
        ref = reference.verify(self.master_key, self.brand.id, event.reference)
        link = self.link(ref.code) if ref else None
        window = timedelta(days=self.brand.attribution_window_days)
        if ref is None or link is None or not (event.at - window <= ref.clicked_at <= event.at + _SKEW):
            log.info("tracking event %s: reference not verifiable or out of window; not counted", event.event_id)
            return None
        return ref, link


class Judged(NamedTuple):
    """What one tracking event comes to: its counter increments, and the domain event it raises (if counted)."""

    increments: dict
    raised: DomainEvent | None = None


def _raised(kind: type[DomainEvent], event: Event, **fields) -> DomainEvent:
    return kind(id=event_id(kind.name, event.brand_id, event.event_id), brand_id=event.brand_id,
                occurred_at=event.at, **fields)


def _visit(ctx: _BrandContext, event: VisitEvent, result: BatchResult) -> Judged:
    why = abuse.verdict(store=ctx.store, prints=ctx.prints, visit=event)
    ctx.clicks[event.event_id] = {"internal": event.internal,
                                  "rejected": why if abuse.refuses_attribution(why) else None}
    day = day_of(event.at)
    if why is not None:
        result.rejected_clicks += 1
        log.info("click %s not counted: %s", event.event_id, why)
        return Judged(counters.for_member(event.member_id, day, event.source, event.target_kind,
                                          {"rejectedClicks": 1}))
    result.counted_clicks += 1
    kind = "internalVisits" if event.internal else "externalVisits"
    return Judged(counters.for_member(event.member_id, day, event.source, event.target_kind, {"clicks": 1, kind: 1}),
                  _raised(LinkClicked, event, member_id=event.member_id, source=event.source,
                          target_kind=event.target_kind, code=event.code, link_id=event.link_id,
                          internal=event.internal))


def _click(ctx: _BrandContext, ref: reference.Reference) -> dict:
    """What is known of the referenced click: judged earlier in this batch, else its idempotency record."""
    return ctx.clicks.get(ref.click_id) or click_verdicts.of_click(store=ctx.store, click_id=ref.click_id,
                                                                   clicked_at=ref.clicked_at)


def _page_view(ctx: _BrandContext, event: PageViewEvent, result: BatchResult) -> Judged:
    referred = ctx.referred(event)
    if referred is None:
        result.ignored += 1
        return Judged({})
    ref, link = referred
    click = _click(ctx, ref) if event.visitor_key else {}
    if click.get("rejected"):
        log.info("page view %s: click %s was refused (%s); no visit recorded", event.event_id, ref.click_id,
                 click["rejected"])
    elif event.visitor_key:
        record = visits.VisitRecord(click_id=ref.click_id, visitor_key=event.visitor_key, at=ref.clicked_at,
                                    member_id=link.member_id, code=link.code, source=link.source,
                                    target_kind=link.target_kind, internal=bool(click.get("internal")))
        if visits.record(store=ctx.store, visit=record, window_days=ctx.brand.attribution_window_days):
            result.visit_records += 1
    return Judged(counters.for_member(link.member_id, day_of(event.at), link.source, link.target_kind,
                                      {"pageViews": 1}),
                  _raised(PageViewed, event, member_id=link.member_id, source=link.source,
                          target_kind=link.target_kind, code=link.code, path=event.path))


def _product_pick(ctx: _BrandContext, event: ProductPickEvent, result: BatchResult) -> Judged:
    referred = ctx.referred(event)
    if referred is not None:
        _, link = referred
        return Judged(counters.for_member(link.member_id, day_of(event.at), link.source, link.target_kind,
                                          {"productPicks": 1}),
                      _raised(ProductPicked, event, member_id=link.member_id, product_id=event.product_id,
                              code=link.code))
    if event.member_id and ctx.active_member(event.member_id):
        # A member picking a product (e.g. importing it to share): no link, hence no source nor target.
        return Judged(counters.for_member(event.member_id, day_of(event.at), NO_SOURCE, NO_TARGET,
                                          {"productPicks": 1}),
                      _raised(ProductPicked, event, member_id=event.member_id, product_id=event.product_id))
    result.ignored += 1
    return Judged({})


_JUDGES: dict[str, Callable[[_BrandContext, Event, BatchResult], Judged]] = {
    "visit": _visit, "page_view": _page_view, "product_pick": _product_pick,  # type: ignore[dict-item]
}


def _claim(ctx: _BrandContext, event: Event, now: datetime) -> bool:
    """Record the event as applied; False when another delivery claimed it first."""
    if not isinstance(event, VisitEvent):
        return click_verdicts.claim(store=ctx.store, kind=event.type, event_id=event.event_id, at=event.at, now=now)
    # Read back by page views and orders of this click; a refusal as long as its reference could attribute.
    why = ctx.clicks[event.event_id]["rejected"]
    facts = {"internal": event.internal} | ({"rejected": why} if why else {})
    ttl = timedelta(days=ctx.brand.attribution_window_days) if why else click_verdicts.SEEN_TTL
    return click_verdicts.claim(store=ctx.store, kind=event.type, event_id=event.event_id, at=event.at, now=now,
                                ttl=ttl,
                                **facts)


def _browsed(event: Event) -> DomainEvent | None:
    """The hot list's event of a keyed visitor's page or pick (a member importing a product is no visitor)."""
    if isinstance(event, VisitEvent) or event.visitor_key is None:
        return None
    if isinstance(event, ProductPickEvent):
        if event.member_id is not None and event.reference is None:
            return None
        return _raised(VisitorBrowsed, event, visitor_key=event.visitor_key, customer=event.customer,
                       product_id=event.product_id, picked=True)
    return _raised(VisitorBrowsed, event, visitor_key=event.visitor_key, customer=event.customer, path=event.path,
                   product_id=event.product_id)


def _parse_all(messages: list[ReceivedMessage], result: BatchResult) -> list[tuple[str, Event]]:
    parsed = []
    for message in messages:
        try:
            parsed.append((message.message_id, parse(message.body)))
        except ValidationError as exc:
            result.rejected[message.message_id] = exc
    return parsed


def aggregate(*, container: Platform, messages: list[ReceivedMessage]) -> BatchResult:
    """Apply one batch of tracking messages (see the module text for the order of writes)."""
    result = BatchResult()
    now = container.clock.now()
    contexts: dict[str, _BrandContext | None] = {}
    judged: list[tuple[_BrandContext, Event, Judged]] = []
    for message_id, event in _parse_all(messages, result):
        result.events += 1
        if event.brand_id not in contexts:
            try:
                brand = brands.get(store=container.store, brand_id=event.brand_id)
                contexts[event.brand_id] = _BrandContext(
                    container.store.for_brand(event.brand_id), container.store.for_brand(PLATFORM_SCOPE),
                    brand, container.settings.hash_master_key, now)
            except NotFound:
                contexts[event.brand_id] = None
        ctx = contexts[event.brand_id]
        if ctx is None:
            result.rejected[message_id] = PermanentError("unknown brand")
            continue
        if click_verdicts.seen(store=ctx.store, kind=event.type, event_id=event.event_id, at=event.at):
            result.duplicates += 1
            continue
        judged.append((ctx, event, _JUDGES[event.type](ctx, event, result)))
    # Before the claims: a crash after them cannot lose an event (its handlers are idempotent by its id).
    raised = [judgement.raised for _, _, judgement in judged] + [_browsed(event) for _, event, _ in judged]
    container.events.publish(*(event for event in raised if event is not None))
    merged: dict[str, dict] = {}
    for ctx, event, judgement in judged:
        if _claim(ctx, event, now):
            counters.merge(merged.setdefault(ctx.brand.id, {}), judgement.increments)
        else:
            result.duplicates += 1
    for brand_id, increments in merged.items():
        result.distinct_counters += len(increments)
        result.counter_writes += counters.apply(store=contexts[brand_id].store, increments=increments)  # type: ignore[union-attr]
    return result


def tracking_events_handler(container: Platform, messages: list[ReceivedMessage]) -> dict[str, Exception]:
    """The batch handler of `tracking-events` (worker and Functions trigger); returns the rejected messages."""
    result = aggregate(container=container, messages=messages)
    log.info("tracking batch: %d events, %d duplicates, %d counters in %d writes", result.events,
             result.duplicates, result.distinct_counters, result.counter_writes)
    return result.rejected


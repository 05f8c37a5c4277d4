"""The retention run: for each brand, read only the documents that are due, page by page, and move each one step.

Every move is an etag-guarded replace of the document that records the step done and schedules
the next one; a warning is enqueued first under a deterministic message id, so a crash between
"send" and "record" only leads to a second send of the same id, which the bus and the email log
drop. An erasure is first claimed on the document (step "erasing", leased), then done by
shared.gdpr.erasure (idempotent); a crashed erasure stays due and is resumed once the lease is
over. Overlapping runs meet on the etag: the loser reloads and finds the step done. A document
of a person who restricted processing (GDPR article 18) is held as it is until the restriction is lifted. A failure is
contained to its document (counted) or, past that, to its brand. Every run stores a PII-free
report in `retention_runs` and returns it; a dry run changes nothing and lists what it would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.brands.models import Brand
from shared.clock import isoformat
from shared.crm import contact_schedule
from shared.gdpr import erasure, restriction
from shared.gdpr.retention import contact_rules, notices
from shared.gdpr.retention.framework import (
    ERASING,
    FAMILIES,
    Document,
    Plan,
    RetentionRule,
    erasing_block,
    lease_held,
    plan,
)
from shared.gdpr.retention.rules import RULES, rules_of
from shared.identity import repository
from shared.identity.member_retention import RETENTION_RULES, retention_block
from shared.identity.models import Member
from shared.ports.store import BrandStore, EtagMismatch, Filter

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)

RUNS = "retention_runs"
PAGE_SIZE = 100
# How long one run holds an erasure it claimed; a crashed one is resumed after that.
ERASURE_LEASE = timedelta(minutes=15)
# Moves of one document in one run (reschedule, warn, ...): the schedule never needs more.
_MAX_MOVES = 6
COUNTERS = ("read", "warned", "erased", "rescheduled", "cancelled", "busy", "failed", "unreachable", "held")
# Rules that carry out the person's own request (an unsubscribing member asked to leave): a
# restriction of processing does not hold them; every other per-document rule waits while it lasts.
PERSON_REQUESTED_RULES = frozenset({RETENTION_RULES["unsubscribed"]})
# The CRM's contacts run as one more family (their steps are done by contact_rules.act).
RUN_FAMILIES = FAMILIES


@dataclass
class RunContext:
    """One run: the adapters, `now`, the actions (replaceable in tests) and the report being built."""

    container: Platform
    now: datetime
    dry_run: bool
    enqueue: Callable[..., str] = notices.DEFAULT_ENQUEUE
    erase_member: Callable[..., Any] | None = None
    erase_visitor: Callable[..., Any] | None = None
    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    planned: dict[str, dict[str, list[dict[str, str]]]] = field(default_factory=dict)

    def count(self, brand_id: str, rule: str, what: str, n: int = 1) -> None:
        """Add to one counter of the report."""
        per_rule = self.counts.setdefault(brand_id, {}).setdefault(rule, dict.fromkeys(COUNTERS, 0))
        per_rule[what] = per_rule.get(what, 0) + n  # rules with actions of their own add counters

    def plan_entry(self, brand_id: str, rule: str, doc_id: str, action: str, step: str | None = None) -> None:
        """A dry run's line: what would happen to which document."""
        entry = {"id": doc_id, "action": action}
        if step:
            entry["step"] = step
        self.planned.setdefault(brand_id, {}).setdefault(rule, []).append(entry)


@dataclass
class BrandRun:
    """The part of a run about one brand."""

    ctx: RunContext
    brand: Brand
    store: BrandStore

    @property
    def id(self) -> str:
        return self.brand.id


def _erasers(ctx: RunContext) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The erasure functions: shared.gdpr.erasure's, unless the run was given others (tests)."""
    if ctx.erase_member is None or ctx.erase_visitor is None:
        ctx.erase_member = ctx.erase_member or erasure.erase_member
        ctx.erase_visitor = ctx.erase_visitor or erasure.erase_visitor
    return ctx.erase_member, ctx.erase_visitor


def clean(doc: Document) -> Document:
    return {key: value for key, value in doc.items() if not key.startswith("_")}


def _home_block(run: BrandRun, container: str, doc: Document) -> Document:
    """The block a document gets when it left its rule: what its own state schedules."""
    if container == repository.MEMBERS:
        return retention_block(repository.from_document(Member, doc)[0])
    if container == contact_schedule.CONTAINER:
        return contact_schedule.home_block(doc, run.brand)
    return {}


def _write(run: BrandRun, container: str, doc: Document, block: Document) -> Document | None:
    """Store a new retention block with the etag read; the stored doc, or the fresh doc after losing a race."""
    updated = {**clean(doc), "retention": block}
    if run.ctx.dry_run:
        return updated
    try:
        return run.store.replace(container, updated, etag=doc.get("_etag"))
    except EtagMismatch:
        return None


def _reload(run: BrandRun, container: str, doc_id: str) -> Document | None:
    return run.store.find(container, doc_id)


def erase(*, run: BrandRun, container: str, doc: Document, rule: str) -> str:
    """Claim and erase one member or external user: "erased" | "busy" | "lost" (reload) | "failed"."""
    ctx = run.ctx
    block = doc.get("retention") or {}
    if lease_held(block, ctx.now):
        return "busy"
    if ctx.dry_run:
        ctx.plan_entry(run.id, rule, doc["id"], "erase")
        return "erased"
    claimed = _write(run, container, doc, erasing_block(block, rule, ctx.now, ERASURE_LEASE))
    if claimed is None:
        return "lost"
    erase_member, erase_visitor = _erasers(ctx)
    common = {"store": run.store, "blobs": ctx.container.blobs, "hasher": ctx.container.hasher(run.id),
              "now": ctx.now, "rule": rule}
    try:
        if container == repository.MEMBERS:
            erase_member(member_id=doc["id"], events=ctx.container.events, **common)
        else:
            erase_visitor(visitor_id=doc["id"], **common)
    except Exception as exc:
        # The claim stays: the document is due again once the lease is over.
        log.warning("retention: erasure of %s %s of brand %s failed (%s)", container, doc["id"], run.id,
                    type(exc).__name__)
        return "failed"
    log.info("retention: %s %s of brand %s erased (%s)", container, doc["id"], run.id, rule)
    return "erased"


def _warn(run: BrandRun, rule: RetentionRule, doc: Document, step_plan) -> bool:
    """Enqueue the warning of a due step; False when the member cannot be reached."""
    ctx = run.ctx
    step = step_plan.step
    base = rule.base(doc)
    last = rule.steps[-1]
    erase_on = max(rule.nominal(base, run.brand.retention, last),
                   step_plan.due_at + (last.offset(run.brand.retention) - step.offset(run.brand.retention)))
    if not notices.reachable(doc):
        return False
    if not ctx.dry_run:
        notices.send(enqueue=ctx.enqueue, bus=ctx.container.bus, settings=ctx.container.settings, brand=run.brand,
                     doc=doc, template=step.template, erase_on=erase_on, message_id=step_plan.message_id)
    return True


def _move(run: BrandRun, container: str, doc: Document, fixed_rule: RetentionRule | None) -> tuple[str, Document]:
    """One move of one document: ("moved", new doc) to go on, or how it ended (wait, lost, erased, busy, failed)."""
    ctx = run.ctx
    block = doc.get("retention") or {}
    if block.get("step") == ERASING:
        return erase(run=run, container=container, doc=doc, rule=block.get("rule") or "unknown"), doc
    rule = fixed_rule or RULES.get(block.get("rule"))
    if rule is None or rule.container != container:
        # Not a rule of ours (renamed, or written by hand): back to what the document's state schedules.
        home = _home_block(run, container, doc)
        if home == block:
            return "wait", doc
        step_plan = Plan("cancel", home)
        name = block.get("rule") or "unknown"
    else:
        step_plan = plan(rule, doc, run.brand.retention, ctx.now,
                         sent=lambda message_id: notices.already_sent(store=run.store, message_id=message_id))
        name = rule.name
        if step_plan.kind == "wait":
            return "wait", doc
        if step_plan.kind == "cancel":
            step_plan = Plan("cancel", _home_block(run, container, doc))
        if step_plan.kind == "act" and rule.family == contact_schedule.FAMILY:
            return contact_rules.act(run, rule, doc, step_plan)
        if step_plan.kind == "act" and step_plan.step.action == "erase":
            return erase(run=run, container=container, doc=doc, rule=rule.name), doc
    step = step_plan.step.name if step_plan.step else None
    if step_plan.kind == "act":
        warned = _warn(run, rule, doc, step_plan)
        ctx.count(run.id, name, "warned" if warned else "unreachable")
        if ctx.dry_run:
            ctx.plan_entry(run.id, name, doc["id"], "warn" if warned else "skip_warning", step)
    else:
        ctx.count(run.id, name, "rescheduled" if step_plan.kind == "reschedule" else "cancelled")
        if ctx.dry_run:
            ctx.plan_entry(run.id, name, doc["id"], step_plan.kind, step)
    fresh = _write(run, container, doc, step_plan.block)
    return ("moved", fresh) if fresh is not None else ("lost", doc)


def process(*, run: BrandRun, container: str, doc: Document, fixed_rule: RetentionRule | None = None) -> None:
    """Move one due document as far as its schedule says now (bounded, idempotent, etag-guarded)."""
    block = doc.get("retention") or {}
    name = (fixed_rule.name if fixed_rule else block.get("rule")) or "unknown"
    run.ctx.count(run.id, name, "read")
    if name not in PERSON_REQUESTED_RULES and restriction.restricted_document(store=run.store, container=container,
                                                                              doc=doc):
        # GDPR article 18: the data is kept as it is, neither warned about nor erased, until the restriction
        # is lifted; the schedule then goes on (a warning not sent yet pushes the erasure back).
        run.ctx.count(run.id, name, "held")
        if run.ctx.dry_run:
            run.ctx.plan_entry(run.id, name, doc["id"], "hold")
        return
    for _ in range(_MAX_MOVES):
        outcome, doc = _move(run, container, doc, fixed_rule)
        if outcome == "moved":
            continue
        if outcome == "lost":
            # Another writer (a login, an overlapping run) changed the document: read it again.
            reloaded = _reload(run, container, doc["id"])
            if reloaded is None:
                return
            doc = reloaded
            continue
        if outcome != "wait":
            run.ctx.count(run.id, name, outcome)
        return


def _due_pages(run: BrandRun, container: str, filters: list[Filter], order_by: str):
    continuation = None
    while True:
        page = run.store.query(container, filters=filters, order_by=order_by, page_size=PAGE_SIZE,
                               continuation=continuation)
        yield page.items
        continuation = page.continuation
        if continuation is None:
            return


def run_documents(*, run: BrandRun, family: str) -> None:
    """The per-document rules of a family for one brand: read only what is due."""
    now = isoformat(run.ctx.now)
    rules = rules_of(family)
    for container in sorted({rule.container for rule in rules if rule.index == "retention.dueAt"}):
        for items in _due_pages(run, container, [Filter("retention.dueAt", "<=", now)], "retention.dueAt"):
            for doc in items:
                _contained(run, container, doc, None)
    for rule in rules:
        if rule.index == "retention.dueAt":
            continue
        cutoff = isoformat(rule.cutoff(run.ctx.now, run.brand.retention))
        for status in sorted(rule.select.statuses):
            filters = [Filter("status", "=", status), Filter(rule.index, "<=", cutoff)]
            for items in _due_pages(run, rule.container, filters, rule.index):
                for doc in items:
                    _contained(run, rule.container, doc, rule)


def _contained(run: BrandRun, container: str, doc: Document, rule: RetentionRule | None) -> None:
    try:
        process(run=run, container=container, doc=doc, fixed_rule=rule)
    except Exception as exc:
        name = rule.name if rule else (doc.get("retention") or {}).get("rule") or "unknown"
        run.ctx.count(run.id, name, "failed")
        log.warning("retention: %s %s of brand %s failed (%s)", container, doc.get("id"), run.id, type(exc).__name__)

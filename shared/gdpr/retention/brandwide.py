"""Brand-wide retention: the end of a brand's contract and a programme suspension.

Driven by the brand document itself: its status and `statusChangedAt` give the due date of the
brand's erasure (`rules.BRAND_RULES`), checked once per brand and run; nothing is written on the
members until it is due, so setting the brand active again before then is the whole rollback.
Once due, every member and external user of that brand (and no one else: the store handle is the
brand's) is erased, page by page; erased documents leave the query, so a crashed sweep resumes
where it stopped. A suspension first warns the active members once (a progress document in
`retention_runs` keeps the sweep's place; message ids are deterministic per member and suspension).
"""

from __future__ import annotations

import logging

from shared.clock import isoformat
from shared.gdpr.retention import notices
from shared.gdpr.retention.rules import BRAND_RULES, PROGRAMME_SUSPENSION, SUSPENSION_TEMPLATE
from shared.gdpr.retention.runner import PAGE_SIZE, RUNS, BrandRun, erase
from shared.identity import repository
from shared.ports.store import Filter

log = logging.getLogger(__name__)


def run_brand(run: BrandRun) -> None:
    """Apply the brand-wide rule of this brand's status, if any."""
    brand = run.brand
    if brand.status not in BRAND_RULES or brand.status_changed_at is None:
        return
    rule, due_of = BRAND_RULES[brand.status]
    due = due_of(brand.status_changed_at, brand.retention)
    run.ctx.count(run.id, rule, "read", 0)
    if rule == PROGRAMME_SUSPENSION and run.ctx.now < due:
        warn_suspension(run, erase_on=due)
    if run.ctx.now >= due:
        for container in (repository.MEMBERS, repository.VISITORS):
            sweep(run, container, rule)


def sweep(run: BrandRun, container: str, rule: str) -> None:
    """Erase every not-yet-erased member or external user of the brand."""
    continuation = None
    while True:
        page = run.store.query(container, filters=[Filter("status", "!=", "erased")], page_size=PAGE_SIZE,
                               continuation=continuation)
        for doc in page.items:
            run.ctx.count(run.id, rule, "read")
            outcome = "lost"
            for _ in range(3):
                try:
                    outcome = erase(run, container, doc, rule)
                except Exception as exc:
                    log.warning("retention: %s %s of brand %s failed (%s)", container, doc["id"], run.id,
                                type(exc).__name__)
                    outcome = "failed"
                if outcome != "lost":
                    break
                doc = run.store.find(container, doc["id"])
                if doc is None or doc.get("status") == "erased":
                    outcome = "erased"
                    break
            run.ctx.count(run.id, rule, "failed" if outcome == "lost" else outcome)
        continuation = page.continuation
        if continuation is None:
            return


def warn_suspension(run: BrandRun, *, erase_on) -> None:
    """Email every active member once that the programme is suspended and when their data goes."""
    ctx = run.ctx
    changed = isoformat(run.brand.status_changed_at)
    progress_id = f"suspension-notice-{changed}"
    progress = run.store.find(RUNS, progress_id) or {"id": progress_id, "kind": "suspension_notice",
                                                     "statusChangedAt": changed, "done": False}
    if progress.get("done"):
        return
    continuation = progress.get("continuation")
    while True:
        page = run.store.query(repository.MEMBERS, filters=[Filter("status", "=", "active")], page_size=PAGE_SIZE,
                               continuation=continuation)
        for doc in page.items:
            ctx.count(run.id, PROGRAMME_SUSPENSION, "read")
            if not notices.reachable(doc):
                ctx.count(run.id, PROGRAMME_SUSPENSION, "unreachable")
                continue
            message_id = f"retention:{PROGRAMME_SUSPENSION}:{doc['id']}:notice:{changed}"
            if ctx.dry_run:
                ctx.plan_entry(run.id, PROGRAMME_SUSPENSION, doc["id"], "warn", "notice")
            else:
                notices.send(enqueue=ctx.enqueue, bus=ctx.container.bus, settings=ctx.container.settings,
                             brand=run.brand, doc=doc, template=SUSPENSION_TEMPLATE, erase_on=erase_on,
                             message_id=message_id)
            ctx.count(run.id, PROGRAMME_SUSPENSION, "warned")
        continuation = page.continuation
        if ctx.dry_run:
            if continuation is None:
                return
            continue
        # Keep the place after each page: a crashed sweep resumes here, a finished one is not redone.
        progress = {**{k: v for k, v in progress.items() if not k.startswith("_")},
                    "continuation": continuation, "done": continuation is None}
        run.store.upsert(RUNS, progress)
        if continuation is None:
            return

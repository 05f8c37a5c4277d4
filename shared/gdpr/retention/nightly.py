"""The nightly retention run: every brand, family by family, with its PII-free report.

Each brand's documents are moved by shared.gdpr.retention.runner; the brand-wide rules (a programme
suspended or a contract ended) by shared.gdpr.retention.brandwide, which builds on the runner.
A failing brand is reported and the others go on.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.clock import isoformat
from shared.gdpr.retention import brandwide, notices, runner
from shared.store_schema import PLATFORM_SCOPE

if TYPE_CHECKING:
    from shared.ports.platform import Platform

log = logging.getLogger(__name__)


def run(*, container: Platform, family: str | None = None, dry_run: bool = False,
        enqueue: Callable[..., str] | None = None, erase_member: Callable[..., Any] | None = None,
        erase_visitor: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run the retention rules (one family, or all) for every brand; the PII-free report."""
    families = runner.RUN_FAMILIES if family is None else (family,)
    if family is not None and family not in runner.RUN_FAMILIES:
        raise ValueError(f"unknown retention family {family!r}")
    started = container.clock.now()
    ctx = runner.RunContext(container=container, now=started, dry_run=dry_run,
                            enqueue=enqueue or notices.DEFAULT_ENQUEUE, erase_member=erase_member,
                            erase_visitor=erase_visitor)
    failed_brands: list[str] = []
    for brand_id in brands.all_brand_ids(store=container.store):
        try:
            brand = brands.get(store=container.store, brand_id=brand_id)
            brand_run = runner.BrandRun(ctx, brand, container.store.for_brand(brand_id))
            for name in families:
                if name == "brands":
                    brandwide.run_brand(run=brand_run)
                else:
                    runner.run_documents(run=brand_run, family=name)
        except Exception as exc:
            failed_brands.append(brand_id)
            log.error("retention: brand %s failed (%s)", brand_id, type(exc).__name__)
    return _report(ctx, family, started, failed_brands)


def _report(ctx: runner.RunContext, family: str | None, started: datetime, failed_brands: list[str]) -> dict[str, Any]:
    totals: dict[str, int] = defaultdict(int)
    for per_rule in ctx.counts.values():
        for counters in per_rule.values():
            for key, value in counters.items():
                totals[key] += value
    report: dict[str, Any] = {
        "id": f"run-{isoformat(started)}-{uuid.uuid4().hex[:8]}",
        "family": family or "all",
        "dryRun": ctx.dry_run,
        "startedAt": isoformat(started),
        "finishedAt": isoformat(ctx.container.clock.now()),
        "brands": ctx.counts,
        "failedBrands": failed_brands,
        "totals": dict(totals),
    }
    if ctx.dry_run:
        report["planned"] = ctx.planned
    else:
        stored = ctx.container.store.for_brand(PLATFORM_SCOPE).create(runner.RUNS, report)
        report = runner.clean(stored)
        report.pop("brandId", None)
    log.info("retention run %s (%s): %s", report["id"], report["family"], dict(totals))
    return report

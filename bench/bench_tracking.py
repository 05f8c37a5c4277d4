"""Tracking queue: events per second aggregated on the embedded default, store writes per batch vs counters touched."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from popsell.bootstrap import build_container
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.clock import SettableClock
from shared.config import Settings
from shared.messaging.worker import BATCH_SIZE, BatchHandler, process_once
from shared.ports.bus import QUEUE_TRACKING_EVENTS
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import aggregator, counters, link_codes, reference
from shared.tracking.messages import PageViewEvent, VisitEvent, to_message
from shared.tracking.models import SOURCES

EVENTS = int(os.environ.get("BENCH_TRACKING_EVENTS", "50000"))
MEMBERS = 50
DAYS = 7
ADDRESSES = 20000
SEND_BATCH = 500
BRAND = "bench"
START = datetime(2030, 1, 1, tzinfo=UTC)


def _events(container, codes: list[link_codes.LinkCode]) -> list:
    """A reproducible mix: 70 % clicks, 30 % page views carrying a reference, over members, sources and days."""
    rng = random.Random(7)
    hasher = container.hasher(BRAND)
    ips = [hasher("ip", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}") for n in range(ADDRESSES)]
    key = container.settings.hash_master_key
    events = []
    for n in range(EVENTS):
        code = rng.choice(codes)
        at = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        if rng.random() < 0.7:
            events.append(VisitEvent(eventId=f"v{n}", brandId=BRAND, at=at, internal=rng.random() < 0.2,
                                     ipHash=rng.choice(ips), code=code.code, linkId=code.link_id,
                                     memberId=code.member_id, source=code.source, targetKind=code.target_kind))
        else:
            ref = reference.sign(key, BRAND, code=code.code, click_id=f"click{n:08d}", clicked_at=at)
            events.append(PageViewEvent(eventId=f"p{n}", brandId=BRAND, at=at + timedelta(minutes=1), reference=ref,
                                        visitorKey=hasher("visitor", f"tmp-{n % 5000:08d}"), path="/p"))
    # The queue holds events in the order they happened: a batch is a few seconds of traffic.
    return sorted(events, key=lambda event: event.at)


def run() -> list[str]:
    """Enqueue EVENTS tracking events, drain them with the batch handler, report rates and writes per batch."""
    with tempfile.TemporaryDirectory() as folder:
        clock = SettableClock(START + timedelta(days=DAYS))
        container = build_container(Settings(env="local", data_dir=Path(folder), demo_brand=False), clock=clock)
        brands.create(store=container.store, clock=clock, data=BrandCreate(id=BRAND, name="Bench"))
        platform = container.store.for_brand(PLATFORM_SCOPE)
        codes = []
        for member in range(MEMBERS):
            for source in SOURCES[:4]:
                code = link_codes.LinkCode(code=f"c{member:03d}{source[:3]}", brand=BRAND,
                                           link_id=f"l{member}-{source}", member_id=f"m{member}", source=source,
                                           target_kind="product", url="https://shop.example/p")
                platform.create(link_codes.CONTAINER, link_codes.to_document(code))
                codes.append(code)
        events = _events(container, codes)
        started = time.perf_counter()
        for start in range(0, len(events), SEND_BATCH):
            container.bus.send(QUEUE_TRACKING_EVENTS, [to_message(event) for event in events[start:start + SEND_BATCH]])
        sent_seconds = time.perf_counter() - started

        results: list[aggregator.BatchResult] = []

        def handle(messages):
            result = aggregator.aggregate(container=container, messages=messages)
            results.append(result)
            return result.rejected

        handler = BatchHandler(handle)
        started = time.perf_counter()
        while process_once(container.bus, QUEUE_TRACKING_EVENTS, handler):
            pass
        seconds = time.perf_counter() - started
        container.close()

    handled = sum(result.events for result in results)
    per_event = len(counters.for_member("m", "2030-01-01", "email", "url", {}))  # counters one event touches
    writes = [result.counter_writes for result in results]
    distinct = [result.distinct_counters for result in results]
    return [
        f"tracking queue: {EVENTS:,} events enqueued at {EVENTS / sent_seconds:,.0f} events/s",
        f"tracking queue: {handled:,} events aggregated end to end at {handled / seconds:,.0f} events/s "
        f"({len(results)} batches of up to {BATCH_SIZE}; {sum(r.counted_clicks for r in results):,} clicks counted, "
        f"{sum(r.rejected_clicks for r in results):,} rejected, {sum(r.visit_records for r in results):,} visits kept)",
        f"tracking queue: counter patch writes per batch {statistics.mean(writes):.1f} for "
        f"{statistics.mean(distinct):.1f} distinct counters touched (vs {per_event * handled / len(results):.1f} "
        f"increments without merging)",
    ]


def main() -> None:
    """Print the figures."""
    print("\n".join(run()))


if __name__ == "__main__":
    main()

"""Visit records leave the store once the brand's attribution window has passed (embedded default too)."""

from __future__ import annotations

from datetime import timedelta

from popsell.registry import timer_jobs
from shared.tracking import visits


def record(container, clock, click_id: str) -> None:
    visits.record(store=container.store.for_brand("acme"), visit=visits.VisitRecord(
        clickId=click_id, visitorKey="a" * 64, at=clock.now(), memberId="m1", code="Abcd1234", source="email",
        targetKind="url"), window_days=30)


def stored(container) -> set[str]:
    return {doc["id"].split(":")[0] for doc in container.store.for_brand("acme").query_all(visits.CONTAINER)}


def test_the_hourly_purge_removes_visits_past_the_window_only(container, clock):
    job = timer_jobs()["purge_expired_documents"]
    record(container, clock, "click-old1")
    clock.advance(timedelta(days=10))
    record(container, clock, "click-new1")

    clock.advance(timedelta(days=20, seconds=1))  # the first is 30 days old, the second 20
    assert job.run(container, True) == {"dryRun": True}
    assert stored(container) == {"click-old1", "click-new1"}
    assert job.run(container, False) == {"deleted": 1}
    assert stored(container) == {"click-new1"}

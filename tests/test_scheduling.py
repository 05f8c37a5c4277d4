"""Local timer schedule: same NCRONTAB strings as the timer triggers, driven by the settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from popsell.registry import timer_jobs
from shared.scheduling import LocalSchedule, TimerJob, next_fire


def job(name, schedule):
    return TimerJob(name, schedule, lambda container, dry_run: {})


def test_ncrontab_has_seconds_first():
    assert next_fire("0 15 * * * *", datetime(2030, 1, 1, 9, 0, tzinfo=UTC)) == datetime(2030, 1, 1, 9, 15, tzinfo=UTC)
    assert next_fire("30 0 2 * * *", datetime(2030, 1, 1, 9, 0, tzinfo=UTC)) == datetime(
        2030, 1, 2, 2, 0, 30, tzinfo=UTC)


def test_a_job_fires_when_the_clock_reaches_it_and_not_before():
    start = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    schedule = LocalSchedule({"hourly": job("hourly", "0 15 * * * *")}, start)
    assert schedule.due(start + timedelta(minutes=14)) == []
    assert [j.name for j in schedule.due(start + timedelta(minutes=15))] == ["hourly"]
    assert schedule.due(start + timedelta(minutes=16)) == []


def test_a_clock_jump_of_days_fires_each_missed_job_once():
    start = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    schedule = LocalSchedule({"hourly": job("hourly", "0 15 * * * *")}, start)
    assert len(schedule.due(start + timedelta(days=3))) == 1
    assert schedule.due(start + timedelta(days=3, minutes=1)) == []


def test_every_declared_schedule_is_valid_ncrontab():
    for declared in timer_jobs().values():
        assert len(declared.schedule.split()) == 6
        next_fire(declared.schedule, datetime(2030, 1, 1, tzinfo=UTC))

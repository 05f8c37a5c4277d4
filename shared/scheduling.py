"""Timer declarations: one NCRONTAB schedule (UTC) per job, shared by the Functions timers and the local runner."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from croniter import croniter

if TYPE_CHECKING:
    from shared.bootstrap import Container


@dataclass(frozen=True)
class TimerJob:
    """A scheduled job: `run(container, dry_run)` calls one service and returns a PII-free report."""

    name: str
    schedule: str  # NCRONTAB: {second} {minute} {hour} {day} {month} {day-of-week}, UTC
    run: Callable[[Container, bool], dict[str, Any]]


def next_fire(schedule: str, after: datetime) -> datetime:
    """The first instant strictly after `after` matching a six-field NCRONTAB schedule."""
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime)


# Modules declaring timer jobs: each has `JOBS: list[TimerJob]`. One line here adds a feature's jobs
# to the Functions timers and the local schedule alike.
TIMER_JOB_MODULES: tuple[str, ...] = (
    "shared.gdpr.exports",
    "shared.gdpr.timer_jobs_warehouse",
    "shared.gdpr.retention.jobs",
    "shared.backups.jobs",
)


@cache
def timer_jobs() -> dict[str, TimerJob]:
    """Every declared job by name (loaded on first use: the declaring modules import this one)."""
    jobs: dict[str, TimerJob] = {}
    for module in TIMER_JOB_MODULES:
        for job in importlib.import_module(module).JOBS:
            if job.name in jobs:
                raise ValueError(f"two timer jobs are named {job.name!r}")
            jobs[job.name] = job
    return jobs


class LocalSchedule:
    """Fires due jobs against the container's clock; a jump of the clock fires each missed job once."""

    def __init__(self, jobs: dict[str, TimerJob], start: datetime) -> None:
        self.jobs = jobs
        self.next_at = {name: next_fire(job.schedule, start) for name, job in jobs.items()}

    def due(self, now: datetime) -> list[TimerJob]:
        """Jobs whose next time has come; each is rescheduled after `now` (past-due runs collapse into one)."""
        fired = []
        for name, at in self.next_at.items():
            if at <= now:
                fired.append(self.jobs[name])
                self.next_at[name] = next_fire(self.jobs[name].schedule, now)
        return fired

    def seconds_until_next(self, now: datetime) -> float:
        """How long the runner may sleep (never more than a second, so clock jumps are seen quickly)."""
        soonest = min(self.next_at.values(), default=now + timedelta(seconds=1))
        return max(0.0, min(1.0, (soonest - now).total_seconds()))

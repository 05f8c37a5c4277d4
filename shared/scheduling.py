"""Timer declarations: one NCRONTAB schedule (UTC) per job, shared by the Functions timers and the local runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from croniter import croniter

if TYPE_CHECKING:
    from shared.ports.platform import Platform


@dataclass(frozen=True)
class TimerJob:
    """A scheduled job: `run(container, dry_run)` calls one service and returns a PII-free report."""

    name: str
    schedule: str  # NCRONTAB: {second} {minute} {hour} {day} {month} {day-of-week}, UTC
    run: Callable[[Platform, bool], dict[str, Any]]


def next_fire(schedule: str, after: datetime) -> datetime:
    """The first instant strictly after `after` matching a six-field NCRONTAB schedule."""
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime)


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

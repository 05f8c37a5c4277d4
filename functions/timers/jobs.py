"""Every job of popsell.registry.timer_jobs() as a timer trigger, with the same schedule the local runner uses."""

from __future__ import annotations

import logging

import azure.functions as func

from popsell.bootstrap import get_container
from popsell.registry import timer_jobs
from shared.scheduling import TimerJob

bp = func.Blueprint()
log = logging.getLogger("popsell.timers")


def _register(job: TimerJob) -> None:
    @bp.function_name(job.name)
    @bp.timer_trigger(schedule=job.schedule, arg_name="timer", run_on_startup=False, use_monitor=True)
    def run(timer: func.TimerRequest) -> None:
        report = job.run(get_container(), False)
        log.info("timer %s done%s: %s", job.name, " (past due)" if timer.past_due else "", report)


for _job in timer_jobs().values():
    _register(_job)

"""What the entry points run, declared in one place: the timer jobs, the queue handlers, the content erasers.

The features declare their jobs (`JOBS`), handlers and erasers; this module, above them, lists
them: one line here adds a feature's jobs to the Functions timers and the local schedule alike,
or its queue to the Service Bus triggers and the local worker alike. The handlers are bound to
the process's container here, so no feature code fetches it.
"""

from __future__ import annotations

from functools import cache, partial

from popsell.bootstrap import Container
from shared.backups import jobs as backup_jobs
from shared.catalog.uploads import catalog_upload_handler
from shared.conversations import jobs as conversation_jobs
from shared.crm.provider_events import provider_event_handler
from shared.directory import jobs as directory_jobs
from shared.emails.handler import email_handler
from shared.gdpr import erasure, exports, purge_jobs
from shared.gdpr.retention import jobs as retention_jobs
from shared.media import eraser as media_eraser
from shared.media import jobs as media_jobs
from shared.messaging.worker import BatchHandler, Handler
from shared.notifications.handler import notification_handler
from shared.ports.bus import (
    QUEUE_CATALOG_UPLOADS,
    QUEUE_DOMAIN_EVENTS,
    QUEUE_EMAILS,
    QUEUE_NOTIFICATIONS,
    QUEUE_PROVIDER_EVENTS,
    QUEUE_TRACKING_EVENTS,
)
from shared.scheduling import TimerJob
from shared.tracking import link_eraser
from shared.tracking.aggregator import tracking_events_handler
from shared.warehouse import jobs as warehouse_jobs

# The content every erasure of a subject also erases, beyond its own documents.
CONTENT_ERASERS = (link_eraser.ERASER, media_eraser.ERASER)
for _eraser in CONTENT_ERASERS:
    erasure.register_eraser(_eraser)

_TIMER_JOBS: tuple[TimerJob, ...] = (*exports.JOBS, *purge_jobs.JOBS, *warehouse_jobs.JOBS, *retention_jobs.JOBS,
                                     *backup_jobs.JOBS, *directory_jobs.JOBS, *conversation_jobs.JOBS,
                                     *media_jobs.JOBS)


@cache
def timer_jobs() -> dict[str, TimerJob]:
    """Every declared job by name."""
    jobs: dict[str, TimerJob] = {}
    for job in _TIMER_JOBS:
        if job.name in jobs:
            raise ValueError(f"two timer jobs are named {job.name!r}")
        jobs[job.name] = job
    return jobs


def queue_handlers(container: Container) -> dict[str, Handler]:
    """The handler of each queue, bound to this process's container (one handler per queue)."""
    return {
        QUEUE_EMAILS: partial(email_handler, container),
        QUEUE_PROVIDER_EVENTS: partial(provider_event_handler, container),
        QUEUE_TRACKING_EVENTS: BatchHandler(partial(tracking_events_handler, container)),
        QUEUE_DOMAIN_EVENTS: container.events.deliver,
        QUEUE_CATALOG_UPLOADS: partial(catalog_upload_handler, container),
        QUEUE_NOTIFICATIONS: partial(notification_handler, container),
    }

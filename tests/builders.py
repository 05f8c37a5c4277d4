"""Test helpers more than one test file needs: make a brand, run the app, run the email queue and
read what it sent, run a timer.

They go through the real parts (the brand service, the FastAPI app, the bus, the worker's own
handlers, the disk outbox, the timer jobs of `shared.scheduling`), so a test reads what a person
would have received.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from popsell.registry import queue_handlers, timer_jobs
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.messaging import worker
from shared.ports.bus import QUEUE_EMAILS


def deliver_emails(container) -> None:
    """Run the `emails` queue through its handler until it is empty."""
    handler = queue_handlers(container)[QUEUE_EMAILS]
    while worker.process_once(container.bus, QUEUE_EMAILS, handler):
        pass


def sent_emails(container, brand_id: str, template: str | None = None, *, limit: int = 100) -> list[dict]:
    """Deliver what is queued, then the brand's outbox, newest first (only `template`'s when named)."""
    deliver_emails(container)
    return [mail for mail in container.mailer.list(brand_id=brand_id, limit=limit)
            if template is None or mail["template"] == template]


def queued_emails(container) -> list[dict]:
    """The email requests on the queue (taken off it, not delivered)."""
    found = []
    while messages := container.bus.receive(QUEUE_EMAILS):
        for message in messages:
            found.append(message.body)
            container.bus.complete(QUEUE_EMAILS, message)
    return found


def timer(container, name):
    """Run one timer job as the Functions host would, and its report, which names no failed brand."""
    report = timer_jobs()[name].run(container, False)
    assert report["failedBrands"] == []
    return report


def add_brand(container, brand_id: str, name: str, **settings):
    """A brand made by the brand service itself (settings as the Manager API spells them)."""
    return brands.create(store=container.store, clock=container.clock,
                         data=BrandCreate.model_validate({"id": brand_id, "name": name, **settings}))


@contextmanager
def running_app(container) -> Iterator[TestClient]:
    """The whole HTTP app on this container's settings, started and stopped around the block."""
    # Imported when a test asks for the app, as the fixtures did: collecting a store-only test
    # does not build the FastAPI app.
    from functions.http_api import app as app_module

    with TestClient(app_module.create_app(container.settings)) as client:
        yield client

"""`make run`: the API (uvicorn), the local queue worker and the local timer schedule in one process.

The local counterpart of the Functions host, on the embedded default (data under .data/).
Ctrl-C stops the server, then the worker and the timers, cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import uvicorn

from functions import local_operator
from functions.http_api.app import create_app
from popsell.bootstrap import Container, build_container, set_container
from popsell.registry import queue_handlers, timer_jobs
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.config import LOCAL_WEBHOOK_SECRET, get_settings
from shared.errors import NotFound
from shared.messaging.worker import run_forever
from shared.scheduling import LocalSchedule
from shared.tracking import redirect

log = logging.getLogger("popsell.local")
DEMO_BRAND_ID = "demo"
# The local webhook's password when none is set (else it refuses every call); refused outside local runs.
LOCAL_MAILJET_WEBHOOK_SECRET = LOCAL_WEBHOOK_SECRET


def ensure_demo_brand(container: Container) -> bool:
    """Create the demo brand on first start; True when it was created now."""
    try:
        brands.get(store=container.store, brand_id=DEMO_BRAND_ID)
        return False
    except NotFound:
        pass
    brands.create(
        store=container.store, clock=container.clock,
        data=BrandCreate(id=DEMO_BRAND_ID, name="Demo Brand", widgetAllowedOrigins=["http://localhost:3000"],
                         allowedDomains=["shop.example.com"], homeUrl="https://shop.example.com"),
        allow_loopback=True,  # the demo brand's widget is served from the developer's localhost
    )
    return True


def run_timers(container: Container, stop: threading.Event) -> None:
    """Fire timer jobs when the container's clock reaches their schedule (the dev clock endpoint moves it)."""
    schedule = LocalSchedule(timer_jobs(), container.clock.now())
    while not stop.is_set():
        now = container.clock.now()
        for job in schedule.due(now):
            try:
                log.info("timer %s: %s", job.name, job.run(container, False))
            except Exception as exc:  # one failing job must not stop the schedule
                log.error("timer %s failed: %s", job.name, type(exc).__name__)
        stop.wait(schedule.seconds_until_next(container.clock.now()) or 0.2)


def run_worker(container: Container, stop: threading.Event) -> None:
    """Drive the same queue handlers the Service Bus triggers call."""

    run_forever(container.bus, queue_handlers(container), stop, poll_interval=0.2)


def _stop_as_on_ctrl_c(signum: int, frame: object) -> None:
    # uvicorn stops gracefully on SIGTERM (the lifespan's shutdown sends the buffered clicks), then raises
    # the signal again once it has restored this handler: stop the worker and timers as on Ctrl-C.
    raise KeyboardInterrupt


def local_environment(port: int) -> None:
    """What a local run sets when the developer did not: its public URL on its own port, a webhook password."""
    os.environ.setdefault("POPSELL_PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    if not os.environ.get("POPSELL_MAILJET_WEBHOOK_SECRET") and not os.environ.get("POPSELL_MAILJET_API_SECRET"):
        os.environ["POPSELL_MAILJET_WEBHOOK_SECRET"] = LOCAL_MAILJET_WEBHOOK_SECRET
    get_settings.cache_clear()


def main() -> None:
    """Start everything and block until Ctrl-C."""
    port = int(os.environ.get("PORT", "7071"))
    local_environment(port)
    container = build_container()
    set_container(container)
    settings = container.settings
    app = create_app(settings)
    created = settings.demo_brand and ensure_demo_brand(container)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(container, stop), name="queue-worker", daemon=True),
        threading.Thread(target=run_timers, args=(container, stop), name="timers", daemon=True),
    ]
    for thread in threads:
        thread.start()
    lines = [
        f"Popsell Functions running on the embedded default (data in {settings.data_dir}/)",
        f"  health   {base}/api/v1/health",
        f"  OpenAPI  {base}/api/openapi.json",
        f"  docs     {base}/api/docs",
    ]
    if settings.dev_mode:
        operator, _ = local_operator.token(container)
        lines += [
            f"  clock    {base}/api/v1/dev/clock   outbox {base}/api/v1/dev/outbox",
            f"  mailjet  {base}/api/v1/webhooks/mailjet   (basic auth, user mailjet, password "
            f"{settings.mailjet_webhook_secret})",
            f"  demo brand '{DEMO_BRAND_ID}'{' created' if created else ''}; operator token (24 h of the server's "
            f"clock, local only; POST {base}/api/v1/dev/operator-token for a fresh one):",
            f"  {operator}",
        ]
    print("\n".join(lines), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    signal.signal(signal.SIGTERM, _stop_as_on_ctrl_c)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled; stopping cleanly is what follows
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        redirect.close()  # the redirect's buffered visit events reach the queue before the bus closes
        set_container(None)
        print("stopped", flush=True)


if __name__ == "__main__":
    main()

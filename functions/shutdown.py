"""Work a process must finish before it stops: the redirect's buffered visit events (see visit_outbox.py).

A clean stop under uvicorn runs the ASGI lifespan's shutdown (the edge flushes there) and
`make run`'s own clean-up; a normal interpreter exit runs `atexit`. Neither runs when the Functions
host ends the Python worker with SIGTERM (scale-in, a new deployment): Python's default action for
SIGTERM ends the process at once. So the entry point installs a SIGTERM handler that flushes first,
then lets the signal do what it would have done (the previous handler, or the default: exit).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)


def flush_on_sigterm(flush: Callable[[], None]) -> bool:
    """Run `flush` when SIGTERM arrives, then carry on as before; False where no handler can be set."""
    try:
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            try:
                flush()
            except Exception as exc:  # noqa: BLE001 - the process is ending: say so, and end anyway
                log.error("flush at SIGTERM failed: %s", type(exc).__name__)
            if callable(previous):
                previous(signum, frame)
                return
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
            if previous != signal.SIG_IGN:
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: signals cannot be handled here (atexit still flushes)
        log.warning("SIGTERM handler not installed: not on the main thread")
        return False
    return True

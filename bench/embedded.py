"""A throwaway composition root on the embedded default, for benchmarks."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from popsell.bootstrap import Container, build_container, set_container
from shared.clock import SettableClock
from shared.config import Settings


@contextmanager
def embedded_container(prefix: str, now: datetime, **settings: Any) -> Iterator[Container]:
    """A container on a fresh data folder, its clock set at `now`, installed process-wide while in use."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        container = build_container(Settings(env="local", data_dir=Path(folder), demo_brand=False, **settings),
                                    clock=SettableClock(now))
        set_container(container)
        try:
            yield container
        finally:
            set_container(None)
            container.close()

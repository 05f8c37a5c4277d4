"""Shared fixtures: a settable clock, settings on a temporary data folder, the embedded adapters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.clock import SettableClock

pytest_plugins = ["tests.fixtures.cosmos_server", "tests.fixtures.azurite_server"]

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    """A clock that stands still at 2030-01-01T09:00Z until a test moves it."""
    return SettableClock(T0)

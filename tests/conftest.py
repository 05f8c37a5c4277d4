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


@pytest.fixture
def settings(tmp_path):
    """Local settings on a fresh data folder (embedded default adapters)."""
    from shared.config import Settings

    # Visit events go to the queue during the click (no write-behind), so a test reads them at once.
    return Settings(env="local", data_dir=tmp_path / "data", demo_brand=False, redirect_flush_ms=0)


@pytest.fixture
def container(settings, clock):
    """The composition root on the embedded default, installed process-wide for the test."""
    from popsell.bootstrap import build_container, set_container

    built = build_container(settings, clock=clock)
    set_container(built)
    yield built
    set_container(None)


@pytest.fixture
def client(container):
    """An HTTP client on the whole app (local dev mode)."""
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app

    with TestClient(create_app(container.settings)) as test_client:
        yield test_client


@pytest.fixture
def manager_token(container):
    """Headers of a stored, active Manager user: manager_token("admin", "acme") or manager_token("operator")."""
    from datetime import timedelta

    from shared.identity import repository
    from shared.identity.models import ManagerUser
    from shared.store_schema import PLATFORM_SCOPE

    def issue(level: str, brand_id: str | None = None, subject: str | None = None) -> dict[str, str]:
        scope = PLATFORM_SCOPE if level == "operator" else brand_id
        subject = subject or f"mu-{level}-{scope}"
        store = container.store.for_brand(scope)
        if store.find(repository.MANAGER_USERS, subject) is None:
            user = ManagerUser(id=subject, level=level, status="active", email=f"{subject}@example.com",
                               email_hash=container.hasher(scope)("email", f"{subject}@example.com"),
                               created_at=container.clock.now())
            repository.save(store=store, container=repository.MANAGER_USERS, model=user, etag=None)
        token = container.tokens.issue(
            subject=subject, audience="manager", brand_id=brand_id, level=level,
            now=container.clock.now(), ttl=timedelta(hours=1),
        )
        return {"Authorization": f"Bearer {token}"}

    return issue

"""Dev-only surfaces exist in local dev mode only: never under the Functions host or with production settings."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from functions.http_api.app import create_app
from shared.config import Settings


def dev_paths(app) -> set[str]:
    return {path for path in app.openapi()["paths"] if path.startswith("/api/v1/dev")}


def test_local_dev_mode_mounts_the_clock_and_outbox(settings):
    assert {"/api/v1/dev/clock", "/api/v1/dev/outbox"} <= dev_paths(create_app(settings))


def test_the_functions_host_never_mounts_them(settings):
    assert dev_paths(create_app(settings, hosted=True)) == set()


def test_production_settings_never_mount_them(tmp_path):
    production = Settings(env="production", store="cosmos", bus="servicebus", hash_master_key="h",
                          token_signing_keys="k:s", dev_endpoints=True, data_dir=tmp_path)
    app = create_app(production)
    assert dev_paths(app) == set()
    with TestClient(app) as client:
        assert client.get("/api/v1/dev/clock").status_code == 404


def test_the_function_app_module_has_no_dev_routes():
    import function_app

    assert dev_paths(function_app.api) == set()


def test_the_clock_moves_through_the_dev_endpoint(client, container):
    assert client.get("/api/v1/dev/clock").json() == {"now": "2030-01-01T09:00:00Z"}
    moved = client.post("/api/v1/dev/clock/advance", json={"days": 1}).json()
    assert moved == {"now": "2030-01-02T09:00:00Z"}
    assert container.clock.now() == datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    assert client.put("/api/v1/dev/clock", json={"now": "2031-06-01T00:00:00Z"}).json()["now"] == "2031-06-01T00:00:00Z"


def test_a_timer_runs_by_name_and_unknown_names_are_404(client):
    assert client.post("/api/v1/dev/timers/purge_expired_exports/run").json() == {"expired": 0, "deleted": 0}
    assert client.post("/api/v1/dev/timers/nope/run").status_code == 404

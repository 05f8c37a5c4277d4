"""The CLI runs the same services by hand, with --now setting the clock."""

from __future__ import annotations

import json

import pytest

from popsell.cli.main import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POPSELL_DATA_DIR", str(tmp_path))
    from shared.config import get_settings

    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_brand_create_then_show(data_dir, capsys):
    assert main(["--now", "2030-01-01T00:00:00Z", "brand", "create", "--id", "acme", "--name", "Acme",
                 "--pro", "2", "--brand-opt-in"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["brand"] == "acme" and created["integrationKey"]["secret"]
    assert main(["brand", "show", "--id", "acme"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["pro"] == 2 and shown["brandOptIn"] is True
    assert shown["createdAt"] == "2030-01-01T00:00:00Z"
    assert "secret" not in json.dumps(shown)


def test_bad_input_is_a_one_line_error(data_dir, capsys):
    assert main(["brand", "create", "--id", "Not A Slug!", "--name", "x"]) == 2
    assert "id" in capsys.readouterr().err
    assert main(["brand", "show", "--id", "missing"]) == 2


def test_timer_dry_run_reports_without_changing(data_dir, capsys):
    assert main(["--now", "2030-01-01T00:00:00Z", "timers", "run", "purge_expired_exports", "--dry-run"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dryRun"] is True and report["now"] == "2030-01-01T00:00:00Z"


def test_a_created_operator_gets_a_token_the_api_accepts(data_dir, capsys):
    from fastapi.testclient import TestClient

    from functions.http_api.app import create_app
    from popsell.bootstrap import build_container, set_container

    assert main(["manager-user", "create", "--level", "operator", "--email", "ops@popsell.example"]) == 0
    user_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["token", "--user", user_id]) == 0
    token = capsys.readouterr().out.strip()
    set_container(build_container())
    try:
        with TestClient(create_app()) as client:
            response = client.get("/api/v1/manager/brands", headers={"Authorization": f"Bearer {token}"})
    finally:
        set_container(None)
    assert response.status_code == 200
    assert main(["token", "--user", "nobody"]) == 2


def test_directory_reproject_rewrites_stale_projections_once(data_dir, capsys):
    from popsell.bootstrap import build_container
    from shared.identity import repository
    from shared.identity.models import Member, Role

    assert main(["--now", "2030-01-01T00:00:00Z", "brand", "create", "--id", "acme", "--name", "Acme"]) == 0
    container = build_container()
    store = container.store.for_brand("acme")
    repository.save(store=store, container=repository.MEMBERS, etag=None, model=Member(
        id="m1", role=Role.VENDOR, status="active", created_at=container.clock.now(), first_name="Ana",
        last_name="Lopes", address={"city": "Lyon"}))
    doc = store.get(repository.MEMBERS, "m1")
    store.replace(repository.MEMBERS, {**doc, "directory": {"listed": True}})  # a projection of older rules
    container.close()
    capsys.readouterr()

    assert main(["directory", "reproject", "--brand", "acme"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rewritten": {"acme": 1}}
    assert main(["directory", "reproject"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rewritten": {"acme": 0}}

"""The CLI runs the same services by hand, with --now setting the clock."""

from __future__ import annotations

import json

import pytest

from shared.cli.main import main


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


def test_operator_token_is_accepted_by_the_api(data_dir, capsys):
    assert main(["token", "--level", "operator"]) == 0
    assert capsys.readouterr().out.count(".") == 2

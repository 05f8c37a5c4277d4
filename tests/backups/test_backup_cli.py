"""The operator's path: `backup list | take | restore`, then the journal replay the restore names."""

from __future__ import annotations

import json

import pytest

from popsell.cli.main import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POPSELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POPSELL_DEMO_BRAND", "false")
    from shared.config import get_settings

    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _out(capsys) -> dict | list:
    return json.loads(capsys.readouterr().out)


def _brands(capsys) -> list[str]:
    assert main(["brand", "list"]) == 0
    return _out(capsys)


def test_a_restore_from_the_command_line_brings_the_store_back_and_names_the_replay(data_dir, capsys):
    assert main(["--now", "2030-01-01T09:10:00Z", "brand", "create", "--id", "acme", "--name", "Acme"]) == 0
    capsys.readouterr()
    assert main(["--now", "2030-01-01T09:10:00Z", "timers", "run", "backup_hourly"]) == 0
    snapshot = _out(capsys)["report"]["snapshot"]
    assert main(["--now", "2030-01-01T10:05:00Z", "brand", "create", "--id", "beta", "--name", "Beta"]) == 0
    capsys.readouterr()
    assert main(["backup", "list", "--kind", "hourly"]) == 0
    assert _out(capsys) == [snapshot]

    assert main(["--now", "2030-01-01T10:06:00Z", "backup", "restore", "hourly/2030-01-01T09"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["--now", "2030-01-01T10:06:00Z", "backup", "restore", "hourly/2030-01-01T09", "--dry-run"]) == 0
    assert _out(capsys)["containers"]["brands"] == {"restored": 1, "kept": 0, "expired": 0, "removed": 1}
    assert _brands(capsys) == ["acme", "beta"]

    assert main(["--now", "2030-01-01T10:06:00Z", "backup", "restore", "hourly/2030-01-01T09", "--yes"]) == 0
    report = _out(capsys)

    assert _brands(capsys) == ["acme"]
    assert report["snapshot"] == snapshot
    assert report["next"] == "python -m popsell.cli retention replay --since 2030-01-01T09:10:00Z"
    assert main(["--now", "2030-01-01T10:07:00Z", *report["next"].split()[3:]]) == 0
    assert _out(capsys)["since"] == "2030-01-01T09:10:00Z"


def test_a_manual_snapshot_of_a_restored_copy_replays_from_the_instant_it_stands_for(data_dir, capsys):
    assert main(["--now", "2030-02-01T12:00:00Z", "brand", "create", "--id", "acme", "--name", "Acme"]) == 0
    capsys.readouterr()
    assert main(["--now", "2030-02-03T08:30:00Z", "backup", "take", "--as-of", "2030-02-01T12:00:00Z"]) == 0
    taken = _out(capsys)
    assert taken["kind"] == "manual" and taken["period"] == "2030-02-03T083000"

    assert main(["--now", "2030-02-03T08:40:00Z", "backup", "restore", taken["snapshot"], "--yes"]) == 0

    assert _out(capsys)["replaySince"] == "2030-02-01T12:00:00Z"


def test_bad_snapshot_names_and_instants_are_one_line_errors(data_dir, capsys):
    assert main(["backup", "restore", "weekly/2030-01", "--yes"]) == 2
    assert "kind" in capsys.readouterr().err
    assert main(["backup", "restore", "hourly/2030-01-01T09", "--yes"]) == 2
    assert "no finished snapshot" in capsys.readouterr().err
    assert main(["backup", "take", "--as-of", "yesterday"]) == 2
    assert "--as-of" in capsys.readouterr().err

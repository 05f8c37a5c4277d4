"""The dependency locks: what `make test` and the Functions remote build install (docs/decisions/0029)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)", re.MULTILINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_normal(name): version for name, version in PIN.findall(path.read_text())}


def _requirements(lock: Path) -> list[str]:
    """The lock's requirement entries (a line with its continuation lines), comments left out."""
    text = re.sub(r"\\\n", " ", lock.read_text())
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt", "requirements-tools.txt"])
def test_every_package_of_a_lock_is_pinned_with_its_hashes_and_no_index_is_written_in(lock):
    entries = _requirements(ROOT / lock)
    assert entries
    for entry in entries:
        assert PIN.match(entry.strip()), entry  # no option, no range: one exact version
        assert "--hash=sha256:" in entry, entry.split()[0]


@pytest.mark.parametrize(("source", "lock"), [("requirements.in", "requirements.txt"),
                                              ("requirements-dev.in", "requirements-dev.txt"),
                                              ("requirements-tools.in", "requirements-tools.txt")])
def test_the_lock_holds_every_direct_dependency_at_its_pinned_version(source, lock):
    direct, locked = _pins(ROOT / source), _pins(ROOT / lock)
    assert direct and {name: locked.get(name) for name in direct} == direct


def test_the_dev_lock_installs_the_apps_versions():
    app, dev = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-dev.txt")
    assert {name: dev.get(name) for name in app} == app

"""A seeded world for the tests that walk every route (access matrix, fuzzing): built once, copied per test."""

from __future__ import annotations

import copy
import shutil

import pytest

from tests.http import world as worlds


@pytest.fixture(scope="session")
def world_template(tmp_path_factory):
    """The world's data folder, its brands and ids, and the time its clock stood at once built."""
    data_dir = tmp_path_factory.mktemp("world") / "data"
    brands, now = worlds.make_template(data_dir)
    return data_dir, brands, now


@pytest.fixture
def seeded(world_template, tmp_path):
    """A fresh copy of the world, installed as the process's composition root for this test."""
    from popsell.bootstrap import build_container, set_container
    from shared.clock import SettableClock

    template, brands, now = world_template
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    container = build_container(worlds.settings_for(data_dir), clock=SettableClock(now))
    set_container(container)
    yield worlds.World(container=container, brands=copy.deepcopy(brands))
    set_container(None)

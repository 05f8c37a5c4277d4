"""Routers by audience: an audience's first request imports its own routers, and no other audience's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from functions.http_api.audiences import AUDIENCES, DEV, FILES

ROOT = Path(__file__).resolve().parents[2]
_ALL = {**AUDIENCES, FILES[0]: FILES[1], DEV[0]: DEV[1]}
# Build the API in a fresh process, serve one path of the audience, print the router modules imported.
_PROBE = """
import sys, tempfile
from fastapi.testclient import TestClient
from functions.http_api.app import create_app
from shared.config import Settings
settings = Settings(_env_file=None, env="local", data_dir=tempfile.mkdtemp(), blobs="folder", dev_endpoints=True)
TestClient(create_app(settings)).get(sys.argv[1] + "nobody")
prefix = "functions.http_api.routers."
print(sorted(m.removeprefix(prefix) for m, module in list(sys.modules.items())
             if m.startswith(prefix) and hasattr(module, "router")))
"""


@pytest.mark.parametrize("prefix", sorted(_ALL))
def test_an_audiences_first_request_imports_its_own_routers_only(prefix, tmp_path):
    result = subprocess.run([sys.executable, "-c", _PROBE, prefix], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    imported = eval(result.stdout.strip().splitlines()[-1])  # noqa: S307 - our own subprocess's printed list
    # The local realtime hub's WebSocket route is mounted at start when not under the Functions host
    # (a WebSocket has no first HTTP request to build it on); the host never mounts it.
    started_with = ["platform.health", "platform.tracking_redirect", "platform.realtime"]
    assert sorted(imported) == sorted({*_ALL[prefix], *started_with})

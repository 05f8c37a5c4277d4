"""The Functions entry point: the HTTP function, the emails queue trigger and the timers are wired."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.functions_host import indexed_functions

ROOT = Path(__file__).resolve().parents[1]


def test_function_app_lists_http_queue_and_timer_functions():
    functions = {fn.get_function_name(): fn for fn in indexed_functions()}
    bindings = {name: [b.get_dict_repr() for b in fn.get_bindings()] for name, fn in functions.items()}
    http = [name for name, items in bindings.items() if any(b["type"] == "httpTrigger" for b in items)]
    assert http, "no HTTP function"
    http_binding = next(b for b in bindings[http[0]] if b["type"] == "httpTrigger")
    assert str(http_binding["authLevel"]).lower().endswith("anonymous")
    queue_triggers = {
        b["queueName"]: b for items in bindings.values() for b in items if b["type"] == "serviceBusTrigger"
    }
    from popsell.registry import timer_jobs
    from shared.ports.bus import QUEUES

    assert set(queue_triggers) == set(QUEUES)  # every declared queue has its trigger
    assert all(b["connection"] == "ServiceBusConnection" for b in queue_triggers.values())
    # Tracking events come in batches: their counter increments are merged per batch.
    assert str(queue_triggers["tracking-events"]["cardinality"]).lower().endswith("many")
    timers = {name for name, items in bindings.items() if any(b["type"] == "timerTrigger" for b in items)}
    assert set(timer_jobs()) <= timers


def test_host_json_serves_the_api_paths_as_written():
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"
    assert host["extensions"]["serviceBus"]["autoCompleteMessages"] is True


def test_importing_function_app_does_not_touch_azure_services(tmp_path):
    # Cold start stays small: no Azure SDK client is imported until its adapter is chosen.
    code = "import sys, function_app; print(sorted(m for m in sys.modules if m.startswith('azure.cosmos')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_functions_app_starts_with_the_redirect_and_health_only_and_queues_never_build_the_api(tmp_path):
    # Each audience's routers are built on its first request; queue and timer functions never build one.
    code = """
import sys
from tests.http.functions_host import indexed_functions
import function_app
def routers():
    prefix = "functions.http_api.routers."
    return sorted(m.removeprefix(prefix) for m, module in list(sys.modules.items())
                  if m.startswith(prefix) and hasattr(module, "router"))
print(routers())
functions = {f.get_function_name(): f.get_user_function() for f in indexed_functions()}
from azure.functions.timer import TimerRequest
functions["purge_expired_exports"](TimerRequest())
functions["tracking_events_queue"]([])
print(routers())
from tests.http.functions_host import call
assert call("GET", "/api/v1/widget/nobody/config").status_code == 404
print(routers())
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    at_import, after_queues, after_a_widget_call = result.stdout.strip().splitlines()
    assert at_import == after_queues == "['platform.health', 'platform.tracking_redirect']"
    widget = eval(after_a_widget_call)  # noqa: S307 - our own subprocess's printed list
    assert "widget.config" in widget and "app.contacts" not in widget and "manager.users" not in widget


@pytest.mark.parametrize("entry_point", ["function_app", "functions.local_runner", "popsell.cli.main"])
def test_every_entry_point_that_can_erase_knows_the_share_link_eraser(entry_point, tmp_path):
    # The content erasers are listed by the composition root (popsell.registry): an erasure started
    # by any of these processes (the API, a timer, the CLI) must disable the member's share links too.
    code = f"import {entry_point}\nfrom shared.gdpr import erasure\n" \
           "print(','.join(eraser.content_type for eraser in erasure.registered_erasers()))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "POPSELL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "share_links" in result.stdout.strip().split(",")

"""Service verbs take their arguments by keyword (decision 0032): a feature's public function that
reads or writes through a port (a store, blobs, the bus, the platform, an auth context, a run)
names every argument at its call sites, so a call reads as what it does and no two ids swap.

The exceptions are functions whose signature is a protocol their caller speaks positionally: event
and queue handlers, the journal's replayers, the order's sales-line reader, the queue worker.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SHARED = Path(__file__).parents[1] / "shared"
PORTS = ("BrandStore", "DocumentStore", "Platform", "BlobStore", "MessageBus", "AuthContext", "Rights", "Journal",
         "BrandRun", "RunContext", "Mailer", "Realtime", "Notifier")
# Protocol-shaped: called positionally by the dispatcher, the worker, the journal replay, the CRM or attribution.
PROTOCOLS = {"replay_entry", "replay_erasure", "replay_opt_out", "sale_state", "latest_conversation"}
NOT_FEATURES = ("adapters", "ports", "messaging")


def _positional_port_functions() -> list[str]:
    found = []
    for path in sorted(SHARED.rglob("*.py")):
        relative = path.relative_to(SHARED)
        if relative.parts[0] in NOT_FEATURES or path.name == "handlers.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if node.name in PROTOCOLS or node.name.endswith("_handler"):
                continue
            positional = node.args.posonlyargs + node.args.args
            annotations = [ast.unparse(arg.annotation) for arg in positional if arg.annotation]
            if any(port in annotation for annotation in annotations for port in PORTS):
                found.append(f"shared/{relative}:{node.lineno} {node.name}")
    return found


def test_every_service_verb_takes_its_arguments_by_keyword():
    assert _positional_port_functions() == []


def test_the_check_finds_a_positional_verb(tmp_path, monkeypatch):
    feature = tmp_path / "feature"
    feature.mkdir()
    (feature / "service.py").write_text("def get(store: BrandStore, item_id: str): ...\n"
                                        "def put(*, store: BrandStore, item_id: str): ...\n")
    monkeypatch.setattr(sys.modules[__name__], "SHARED", tmp_path)
    assert _positional_port_functions() == ["shared/feature/service.py:1 get"]

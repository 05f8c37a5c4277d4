"""The OpenAPI document is the truth: a client generator takes every operation whole, with its auth.

`openapi-python-client` (pinned in requirements-dev) generates a client from the document into a
temporary folder; any warning or any operation it leaves out fails the test. The generator is told
that image and video bodies and responses, and JSON Lines catalog files, are bytes (its `content_type_overrides`),
which is what they are.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from functions.http_api.openapi_export import document

VENV_BIN = Path(sys.executable).parent
GENERATOR_CONFIG = {"content_type_overrides": {
    media: "application/octet-stream" for media in ("image/png", "image/svg+xml", "image/jpeg", "image/webp",
                                                    "application/x-ndjson", "application/jsonl", "video/mp4",
                                                    "video/quicktime", "video/webm")}}


def operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, operation) for path, methods in doc["paths"].items()
            for method, operation in methods.items()]


def test_every_path_parameter_is_declared_by_its_operation():
    undeclared = []
    for method, path, operation in operations(document()):
        names = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        if names != declared:
            undeclared.append(f"{method} {path}: {sorted(names ^ declared)}")
    assert undeclared == []


def test_every_schema_has_a_meaningful_unique_name():
    names = list(document()["components"]["schemas"])
    assert [name for name in names if "__" in name or "." in name] == []  # module paths leak no more


def test_every_authenticated_operation_names_its_security_scheme():
    doc = document()
    schemes = doc["components"]["securitySchemes"]
    expected = {"member": [{"AppToken": []}], "visitor": [{"WidgetToken": []}], "manager": [{"ManagerToken": []}],
                "contact": [{"ContactRightsToken": []}],
                "operator": [{"ManagerToken": []}], "webhook": [{"MailjetBasicAuth": []}],
                "integration": [{"PlatformKeyId": [], "PlatformTimestamp": [], "PlatformSignature": []}]}
    wrong = []
    for method, path, operation in operations(doc):
        audience = operation["x-access"]["audience"]
        if audience in expected and operation.get("security") != expected[audience]:
            wrong.append(f"{method} {path}: {operation.get('security')}")
        if audience in ("public", "dev") and operation.get("security"):
            wrong.append(f"{method} {path} is public but names {operation['security']}")
    assert wrong == []
    assert {schemes[name]["name"] for name in ("PlatformKeyId", "PlatformTimestamp", "PlatformSignature")} == {
        "X-Popsell-Key-Id", "X-Popsell-Timestamp", "X-Popsell-Signature"}
    assert schemes["MailjetBasicAuth"] == {"type": "http", "scheme": "basic",
                                           "description": schemes["MailjetBasicAuth"]["description"]}


def test_every_body_has_a_declared_media_type_and_malformed_json_is_documented():
    missing = []
    for method, path, operation in operations(document()):
        body = operation.get("requestBody")
        if body is None:
            continue
        if not body.get("content") or any("schema" not in media for media in body["content"].values()):
            missing.append(f"{method} {path}: body without a media type or schema")
        if "400" not in operation["responses"]:
            missing.append(f"{method} {path}: no 400 for a body that is not JSON")
    assert missing == []


def test_a_generated_client_takes_every_operation_whole(tmp_path):
    doc = document()
    (tmp_path / "openapi.json").write_text(json.dumps(doc))
    (tmp_path / "config.json").write_text(json.dumps(GENERATOR_CONFIG))
    result = subprocess.run(  # noqa: S603 - the pinned generator of our own venv
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none",
         "--config", "config.json", "--output-path", "client"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower() and "will not be generated" not in output, output
    generated = [path for path in (tmp_path / "client").rglob("*.py")
                 if "api" in path.relative_to(tmp_path / "client").parts and path.name != "__init__.py"]
    assert len(generated) == len(operations(doc)), output

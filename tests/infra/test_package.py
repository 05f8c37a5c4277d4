"""The deployment package carries compiled bytecode: on Azure the package is read-only, nothing compiles once."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from scripts.compile_bytecode import SOURCES, compile_app

ROOT = Path(__file__).resolve().parents[2]
CHECKED_HASH = 0b11  # PEP 552 flags: hash-based, checked against the source


def test_the_package_keeps_bytecode_and_azd_compiles_it_before_packaging():
    ignored = (ROOT / ".funcignore").read_text().split()
    assert "__pycache__/" not in ignored and "*.pyc" not in ignored
    assert "run: python3.11 scripts/compile_bytecode.py" in (ROOT / "azure.yaml").read_text()
    assert "prepackage:" in (ROOT / "azure.yaml").read_text()


def test_every_module_gets_checked_hash_bytecode(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    assert compile_app(tmp_path)
    modules = [path for name in SOURCES for path in ((tmp_path / name).rglob("*.py") if (tmp_path / name).is_dir()
                                                     else [tmp_path / name])]
    tag = sys.implementation.cache_tag
    for module in modules:
        compiled = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
        assert compiled.exists(), module
        assert int.from_bytes(compiled.read_bytes()[4:8], "little") == CHECKED_HASH, module

"""Compile the app's bytecode into the deployment package (azd runs this before packaging; see azure.yaml).

On Azure the app runs from a read-only package: Python cannot write the `__pycache__` it compiles,
so without shipped bytecode every cold start compiles every module again. The bytecode is
"checked-hash" (PEP 552): valid whatever the files' timestamps become in the zip, and still checked
against the source, so a developer's later edits are never hidden by a stale file.
Run by hand: `python3.11 scripts/compile_bytecode.py` (the Python of the Functions runtime, 3.11).
"""

from __future__ import annotations

import compileall
import py_compile
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("function_app.py", "functions", "popsell", "shared")


def compile_app(root: Path = ROOT) -> bool:
    """Compile every module of the app under `root`; False when one does not compile."""
    mode = py_compile.PycInvalidationMode.CHECKED_HASH
    ok = True
    for name in SOURCES:
        path = root / name
        if path.is_dir():
            ok &= compileall.compile_dir(path, quiet=1, force=True, invalidation_mode=mode)
        else:
            ok &= compileall.compile_file(path, quiet=1, force=True, invalidation_mode=mode)
    return bool(ok)


if __name__ == "__main__":
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"compile with Python 3.11, the Functions runtime's (this is {sys.version.split()[0]})")
    sys.exit(0 if compile_app() else 1)

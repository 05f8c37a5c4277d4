"""Rewrite the `containers` literal of infra/modules/cosmos.bicep from shared/store_schema.py.

Run after changing a container declaration: `.venv/bin/python scripts/sync_bicep_containers.py`.
tests/infra/test_containers_match_code.py still holds the two equal; this only saves the typing.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.store_schema import CONTAINERS  # noqa: E402

BICEP = ROOT / "infra" / "modules" / "cosmos.bicep"


def literal() -> str:
    """The Bicep array literal for every declared container."""
    lines = ["var containers = ["]
    for spec in CONTAINERS.values():
        lines += ["  {", f"    name: '{spec.name}'", f"    partitionKeyPath: '{spec.partition_key_path}'"]
        for key, paths in (("indexedPaths", spec.indexed_paths), ("textPaths", spec.text_paths),
                           ("arrayPaths", spec.array_paths)):
            if paths:
                lines += [f"    {key}: [", *[f"      '{path}'" for path in paths], "    ]"]
            else:
                lines.append(f"    {key}: []")
        lines += [f"    ttlEnabled: {'true' if spec.ttl_enabled else 'false'}", "  }"]
    return "\n".join([*lines, "]"])


def main() -> None:
    text = BICEP.read_text()
    start = text.index("var containers = [")
    end = text.index("\n]\n", start) + 3
    BICEP.write_text(text[:start] + literal() + "\n" + text[end:])


if __name__ == "__main__":
    main()

"""`retention run [--family F] [--dry-run]` and `retention replay` (the erasure journal's, popsell.cli.gdpr_journal)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from popsell.cli import gdpr_journal
from shared.gdpr.retention import nightly
from shared.gdpr.retention.framework import FAMILIES

if TYPE_CHECKING:
    from popsell.bootstrap import Container


def _run(container: Container, args: argparse.Namespace) -> int:
    report = nightly.run(container=container, family=args.family, dry_run=args.dry_run)
    print(json.dumps(report, indent=2, default=str))
    return 1 if report["failedBrands"] else 0


def register(commands: Any) -> None:
    """Add the `retention` command group."""
    group = commands.add_parser("retention", help="retention rules").add_subparsers(dest="action", required=True)
    run = group.add_parser("run", help="run the retention rules now (use the global --now to set the clock)")
    run.add_argument("--family", choices=FAMILIES, help="one rule family (default: all)")
    run.add_argument("--dry-run", action="store_true", help="list what would happen, change nothing")
    run.set_defaults(run=_run)
    replay = group.add_parser("replay", help="apply again what the erasure journal holds since a backup")
    gdpr_journal.add_replay_arguments(replay)
    replay.set_defaults(run=gdpr_journal.replay_command)

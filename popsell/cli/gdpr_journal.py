"""CLI: replay the erasure journal after a backup restore (`journal replay --since T [--dry-run]`).

Erasures, contacts' opt-outs and black-list entries journalled since T are applied again
(shared/gdpr/journal.py; docs/decisions/0025-restore-proof-journal.md).

The issue names it `retention replay`: the `retention` command group belongs to
popsell/cli/retention.py, which can mount the same command with `add_replay_command`.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from shared.clock import isoformat, parse_instant
from shared.errors import InvalidInput
from shared.gdpr import journal_replay

if TYPE_CHECKING:
    from popsell.bootstrap import Container


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The replay command's options."""
    parser.add_argument("--since", required=True,
                        help="apply again every erasure, opt-out and black-list entry journalled at or after "
                             "this UTC instant (the time of the restored backup), e.g. 2030-01-01T00:00:00Z")
    parser.add_argument("--dry-run", action="store_true", help="count what would be applied again, change nothing")


def replay_command(container: Container, args: argparse.Namespace) -> int:
    """Run the replay and print the per-brand counts; 1 when a brand failed."""
    try:
        since = parse_instant(args.since)
    except ValueError as exc:
        raise InvalidInput("--since is not an ISO 8601 instant",
                           errors=[{"field": "since", "message": "not an ISO 8601 instant"}]) from exc
    now = container.clock.now()
    report: dict[str, Any] = journal_replay.replay(store=container.store, blobs=container.blobs,
                                                   hasher_for=container.hasher, since=since, now=now,
                                                   events=container.events, dry_run=args.dry_run)
    print(json.dumps({"since": isoformat(since), "now": isoformat(now), "dryRun": args.dry_run, "brands": report},
                     indent=2))
    return 1 if any("failed" in counts for counts in report.values()) else 0


def add_replay_command(subparsers: Any) -> argparse.ArgumentParser:
    """Mount `replay` under a command group (`journal` here, `retention` in popsell/cli/retention.py)."""
    parser = subparsers.add_parser("replay", help="apply again every erasure and opt-out journalled since a date "
                                                  "(after a backup restore)")
    add_replay_arguments(parser)
    parser.set_defaults(run=replay_command)
    return parser


def register(commands: Any) -> None:
    """Add the `journal` command group."""
    group = commands.add_parser("journal", help="the erasure journal").add_subparsers(dest="action", required=True)
    add_replay_command(group)

"""`backup list | take | restore`: the store's snapshots by hand (docs/deploy.md "Backups")."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from shared.backups import restore, snapshots
from shared.clock import parse_instant
from shared.errors import InvalidInput

if TYPE_CHECKING:
    from popsell.bootstrap import Container


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _list(container: Container, args: argparse.Namespace) -> int:
    kinds = [snapshots.KINDS[args.kind]] if args.kind else list(snapshots.KINDS.values())
    _print([snapshot.id for kind in kinds for snapshot in snapshots.taken(blobs=container.backup_blobs, kind=kind)])
    return 0


def _take(container: Container, args: argparse.Namespace) -> int:
    try:
        as_of = parse_instant(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise InvalidInput("--as-of is not an ISO 8601 instant", field="as_of") from exc
    _print(snapshots.take(store=container.store, blobs=container.backup_blobs, kind=snapshots.KINDS[args.kind],
                          clock=container.clock, as_of=as_of, dry_run=args.dry_run))
    return 0


def _restore(container: Container, args: argparse.Namespace) -> int:
    if not (args.dry_run or args.yes):
        raise InvalidInput("a restore replaces the store's documents: stop the app, then add --yes "
                           "(or look first with --dry-run)", field="yes")
    snapshot = snapshots.find(blobs=container.backup_blobs, reference=args.snapshot)
    report = restore.restore(store=container.store, blobs=container.backup_blobs, snapshot=snapshot,
                             now=container.clock.now(), dry_run=args.dry_run)
    # The snapshot brings back whoever was erased after it: the journal replay must follow.
    report["next"] = f"python -m popsell.cli retention replay --since {report['replaySince']}"
    _print(report)
    return 0


def register(commands: Any) -> None:
    """Add the `backup` command group."""
    group = commands.add_parser("backup", help="snapshots of the store (the hourly and monthly backups)"
                                ).add_subparsers(dest="action", required=True)
    listing = group.add_parser("list", help="finished snapshots, oldest first")
    listing.add_argument("--kind", choices=sorted(snapshots.KINDS))
    listing.set_defaults(run=_list)
    take = group.add_parser("take", help="write a snapshot of the store now")
    take.add_argument("--kind", choices=sorted(snapshots.KINDS), default=snapshots.MANUAL.name,
                      help="manual (default), or the timers' hourly / monthly one of this period")
    take.add_argument("--as-of", help="the UTC instant the data stands for, when older than now (a copy "
                                      "Cosmos DB restored to that instant); the journal replay starts there")
    take.add_argument("--dry-run", action="store_true", help="say whether it would be written, write nothing")
    take.set_defaults(run=_take)
    back = group.add_parser("restore", help="make the store equal to a snapshot (then replay the erasure journal)")
    back.add_argument("snapshot", help="<kind>/<period>[/<attempt>], e.g. hourly/2030-01-01T09 (see `backup list`)")
    back.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
    back.add_argument("--yes", action="store_true", help="really replace the store's documents")
    back.set_defaults(run=_restore)

"""`directory reproject [--brand B]`: rewrite members' directory projections after a change of its rules."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.identity import repository

if TYPE_CHECKING:
    from popsell.bootstrap import Container


def _reproject(container: Container, args: argparse.Namespace) -> int:
    brand_ids = [args.brand] if args.brand else brands.all_brand_ids(store=container.store)
    report = {brand_id: repository.reproject_members(store=container.store.for_brand(brand_id))
              for brand_id in brand_ids}
    print(json.dumps({"rewritten": report}, indent=2))
    return 0


def register(commands: Any) -> None:
    """Add the `directory` command group."""
    group = commands.add_parser("directory", help="the member directory").add_subparsers(dest="action",
                                                                                        required=True)
    reproject = group.add_parser("reproject", help="write again the members' directory projections the code "
                                                   "computes differently now (after an upgrade)")
    reproject.add_argument("--brand", help="one brand (default: every brand)")
    reproject.set_defaults(run=_reproject)

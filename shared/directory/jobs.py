"""The timer job counting the directory's low-zoom map grids again (NCRONTAB, UTC)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.brands import service as brands
from shared.directory import grid
from shared.scheduling import TimerJob

if TYPE_CHECKING:
    from shared.ports.platform import Platform


def _directory_grids(container: Platform, dry_run: bool) -> dict[str, Any]:
    brand_ids = brands.all_brand_ids(store=container.store)
    if dry_run:
        return {"brands": len(brand_ids), "rebuilt": 0}
    now = container.clock.now()
    for brand_id in brand_ids:
        grid.rebuild(store=container.store.for_brand(brand_id), now=now)
    return {"brands": len(brand_ids), "rebuilt": len(brand_ids)}


JOBS = [TimerJob("directory_grids", f"0 */{grid.GRID_REFRESH_MINUTES} * * * *", _directory_grids)]

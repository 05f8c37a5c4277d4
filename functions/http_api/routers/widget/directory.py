"""Member directory in the widget (public): the members a visitor may pick, listed and mapped."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.directory import Bbox, SearchParameters, Zoom, members_map, search
from shared.directory.models import DirectoryMap, VisitorDirectoryPage

router = APIRouter(tags=["directory"])


@router.get("/api/v1/widget/{brand_id}/directory", response_model=VisitorDirectoryPage,
            responses=problem_responses(404, 422), **access("public"))
def widget_directory(brand_id: str, container: ContainerDep, parameters: SearchParameters) -> VisitorDirectoryPage:
    """Members a website visitor may pick for a chat (visitor view: no position, distance in whole km)."""
    return search(container, brand_id, "visitor", **parameters)


@router.get("/api/v1/widget/{brand_id}/directory/map", response_model=DirectoryMap,
            responses=problem_responses(404, 422), **access("public"))
def widget_directory_map(brand_id: str, container: ContainerDep, bbox: Bbox, zoom: Zoom) -> DirectoryMap:
    """Members inside a box, grouped by cells (visitor view: cell centres, zoom capped at 12)."""
    return members_map(container, brand_id, "visitor", bbox, zoom)

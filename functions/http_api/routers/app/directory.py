"""Member directory in the App: list, search and map the brand's members."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from functions.http_api.routers.common.directory import Bbox, SearchParameters, Zoom, members_map, search
from shared.directory.models import DirectoryMap, MemberDirectoryPage

router = APIRouter(tags=["directory"])


@router.get("/api/v1/app/{brand_id}/directory", response_model=MemberDirectoryPage,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_directory(brand_id: str, container: ContainerDep, parameters: SearchParameters) -> MemberDirectoryPage:
    """Members of the brand: search by name, city or home shop; sort by name, availability or distance."""
    return search(container, brand_id, "member", **parameters)


@router.get("/api/v1/app/{brand_id}/directory/map", response_model=DirectoryMap,
            responses=problem_responses(401, 404, 422), **access("member"))
def app_directory_map(brand_id: str, container: ContainerDep, bbox: Bbox, zoom: Zoom) -> DirectoryMap:
    """Members inside a box, grouped by the zoom level's grid cells."""
    return members_map(container, brand_id, "member", bbox, zoom)

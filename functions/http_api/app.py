"""The HTTP API: the edge (client address, request ids, access lines, the redirect) around the FastAPI
app (routers per audience, built on first use; problem+json errors; CORS per brand)."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI

from functions.http_api import openapi_document
from functions.http_api.audiences import AUDIENCES, DEV, FILES, LazyRouters
from functions.http_api.edge import Edge
from functions.http_api.middleware import WidgetCorsMiddleware
from functions.http_api.problems import install_problem_handlers
from functions.http_api.routers.platform import health, tracking_redirect
from popsell.bootstrap import get_container
from shared.brands import service as brands
from shared.config import Settings, get_settings
from shared.errors import NotFound
from shared.privacy.logging import configure_logging

API_VERSION = "1.0.0"
_ORIGINS_TTL_SECONDS = 30.0


def _cached_widget_origins() -> Callable[[str], list[str]]:
    """Brand widget origins, cached briefly: CORS checks run on every widget call."""
    cache: dict[str, tuple[float, list[str]]] = {}

    def lookup(brand_id: str) -> list[str]:
        hit = cache.get(brand_id)
        if hit and time.monotonic() - hit[0] < _ORIGINS_TTL_SECONDS:
            return hit[1]
        try:
            brand = brands.get(store=get_container().store, brand_id=brand_id)
            origins = [] if brand.status == "contract_ended" else brand.widget_allowed_origins
        except NotFound:
            origins = []
        cache[brand_id] = (time.monotonic(), origins)
        return origins

    return lookup


def create_app(settings: Settings | None = None, *, hosted: bool = False) -> Edge:
    """Build the API. `hosted=True` under the Functions host: dev-only routes are never mounted there.

    Only the redirect and health are built now; each audience's routers on its first request.
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Popsell Functions API",
        version=API_VERSION,
        description=(
            "Backend of the Popsell platform: App (members), widgets (visitors), Manager (brand users), "
            "brand-platform integrations and email-provider webhooks. Every error is application/problem+json."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.include_router(tracking_redirect.router)
    app.include_router(health.router)
    if settings.realtime == "local" and not hosted:
        from functions.http_api.routers.platform import realtime

        app.include_router(realtime.router)  # the local hub's WebSocket (not in the OpenAPI document)
    audiences = dict(AUDIENCES)
    if settings.blobs == "folder":
        audiences[FILES[0]] = FILES[1]
    if settings.dev_mode and not hosted:
        audiences[DEV[0]] = DEV[1]
    routers = LazyRouters(app, audiences)
    app.openapi = openapi_document.builder(app, routers)
    app.add_middleware(WidgetCorsMiddleware, allowed_origins=_cached_widget_origins())
    # Under the Functions host there is always Azure's front end in front, appending the client's address.
    hops = max(settings.trusted_proxy_hops, 1) if hosted else settings.trusted_proxy_hops
    return Edge(app, routers, trusted_hops=hops, ip_hash_key=settings.hash_master_key)

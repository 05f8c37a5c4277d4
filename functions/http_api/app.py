"""The FastAPI app: routers per audience, problem+json errors, request ids, CORS per brand."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from functions.http_api.middleware import RequestContextMiddleware, WidgetCorsMiddleware
from functions.http_api.problems import Problem, install_problem_handlers
from shared.bootstrap import get_container
from shared.brands import service as brands
from shared.config import Settings, get_settings
from shared.errors import NotFound
from shared.privacy.logging import configure_logging

API_VERSION = "1.0.0"

# Every router of the API (dev and files are added below, by mode).
# Order matters: FastAPI matches routes in turn, so the hottest path (the share-link redirect) comes first.
ROUTER_MODULES = (
    "tracking_redirect",
    "health",
    "manager_brands",
    "widget",
    "app_auth",
    "app_profile",
    "directory",
    "widget_visitors",
    "integrations_sso",
    "manager_members",
    "manager_users",
    "gdpr_app",
    "gdpr_widget",
    "gdpr_manager",
    "app_contacts",
    "manager_contacts",
    "integrations_contacts",
    "webhooks_mailjet",
    "app_invitations",
    "app_campaigns",
    "campaign_stats",
    "widget_contact_form",
    "email_templates",
    "app_links",
    "manager_links",
    "widget_site_events",
    "integrations_orders",
    "commissions",
    "tracking_dashboards",
)
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


def _problem_openapi(app: FastAPI) -> Callable[[], dict]:
    """OpenAPI where every error response is problem+json and every route documents its 500."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(_PROBLEM_SCHEMAS)
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.setdefault("500", {"description": "Internal error"})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = problem
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


_PROBLEM_SCHEMAS = {
    "Problem": Problem.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
}
_PROBLEM_SCHEMAS.update(_PROBLEM_SCHEMAS["Problem"].pop("$defs", {}))


def create_app(settings: Settings | None = None, *, hosted: bool = False) -> FastAPI:
    """Build the API. `hosted=True` under the Functions host: dev-only routes are never mounted there."""
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
    app.openapi = _problem_openapi(app)
    for module in ROUTER_MODULES:
        app.include_router(importlib.import_module(f"functions.http_api.routers.{module}").router)
    if settings.blobs == "folder":
        from functions.http_api.routers import files

        app.include_router(files.router)
    if settings.dev_mode and not hosted:
        from functions.http_api.routers import dev

        app.include_router(dev.router)
    app.add_middleware(WidgetCorsMiddleware, allowed_origins=_cached_widget_origins())
    app.add_middleware(RequestContextMiddleware, ip_hash_key=settings.hash_master_key)
    return app

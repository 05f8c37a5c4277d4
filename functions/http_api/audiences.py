"""The API's routers by audience, built on the first request to that audience.

Importing a router module builds its routes and their pydantic models: for the whole API that is
most of a cold start. So the Functions app starts with the redirect and health only, and an
audience's routers are imported and included when its first request arrives (or when the OpenAPI
document is asked for, which names every route). Queue and timer functions never get here.

Each router module serves one audience and lives in that audience's package (`routers/app/`,
`routers/manager/` ...): a feature with an App and a Manager side has one module in each, and what
they share sits in `routers/common/`, which holds no route. So an audience's first request imports
its own routers only.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

from fastapi import FastAPI

# Path prefix -> router modules (functions.http_api.routers.<audience>.<name>) whose routes live under it.
AUDIENCES: dict[str, tuple[str, ...]] = {
    "/api/v1/app/": (
        "app.config", "app.auth", "app.profile", "app.directory", "app.sso", "app.gdpr", "app.contacts",
        "app.invitations", "app.vouchers", "app.campaigns", "app.campaign_stats", "app.email_templates", "app.links",
        "app.commissions", "app.tracking_dashboards", "app.contact_capture", "app.member_profiles",
        "app.catalog", "app.conversation_media", "app.conversations", "app.push_subscriptions",
        "app.conversation_metrics", "app.hot_list", "app.dedicated_customers",
    ),
    "/api/v1/widget/": ("widget.config", "widget.directory", "widget.visitors", "widget.gdpr",
                        "widget.contact_capture", "widget.site_events", "widget.member_profiles",
                        "widget.catalog", "widget.conversation_media", "widget.conversations", "widget.hooks",
                        "widget.dedicated_member"),
    "/api/v1/manager/": (
        "manager.brands", "manager.whitelist", "manager.members", "manager.users", "manager.gdpr",
        "manager.contacts", "manager.campaign_stats", "manager.email_templates", "manager.links",
        "manager.commissions", "manager.tracking_dashboards", "manager.conversation_metrics", "manager.conversations",
    ),
    "/api/v1/integrations/": ("integrations.sso", "integrations.contacts", "integrations.orders",
                             "integrations.catalog"),
    "/api/v1/webhooks/": ("webhooks.mailjet",),
    "/api/v1/contacts/": ("contacts.rights",),
}
# Mounted by mode (create_app): served files of the local blob folder, and the dev-only surfaces.
FILES = ("/api/v1/files/", ("platform.files",))
DEV = ("/api/v1/dev/", ("platform.dev",))
# Asking for the documentation builds everything it documents.
DOCUMENTATION_PATHS = frozenset({"/api/openapi.json", "/api/docs", "/api/docs/oauth2-redirect"})


class LazyRouters:
    """Includes each audience's routers into the app on first use, once, whatever the concurrency."""

    def __init__(self, app: FastAPI, audiences: dict[str, tuple[str, ...]]) -> None:
        self._app = app
        self._audiences = dict(audiences)
        self._built: set[str] = set()
        self._lock = threading.Lock()

    def prefix_of(self, path: str) -> str | None:
        """The audience prefix `path` belongs to, or None (health, the redirect, unknown paths)."""
        for prefix in self._audiences:
            if path.startswith(prefix):
                return prefix
        return None

    def ensure(self, path: str) -> None:
        """Build the routers `path` may be served by (every router for the documentation paths)."""
        if path in DOCUMENTATION_PATHS:
            self.ensure_all()
            return
        prefix = self.prefix_of(path)
        if prefix is not None and prefix not in self._built:
            self._build([prefix])

    def ensure_all(self) -> None:
        """Build every audience (the OpenAPI document, tests that walk every route)."""
        missing = [prefix for prefix in self._audiences if prefix not in self._built]
        if missing:
            self._build(missing)

    def _build(self, prefixes: Iterable[str]) -> None:
        # Blocking on purpose: an audience is built once per process, in a few hundred milliseconds at
        # most, and the event loop must not serve that audience before its routes exist.
        with self._lock:
            for prefix in prefixes:
                if prefix in self._built:
                    continue
                for module in self._audiences[prefix]:
                    router = importlib.import_module(f"functions.http_api.routers.{module}").router
                    self._app.include_router(router)
                self._built.add(prefix)
            self._app.openapi_schema = None  # a document built before would miss these routes

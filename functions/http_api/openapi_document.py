"""The OpenAPI document: every route, every error it can answer, every security scheme, one name per schema.

FastAPI writes what each route declares. What every route of a kind shares is added here, in one
place, from the route's access note (`access.py`) and its shape, so no route can forget it:
- every error is application/problem+json, and every operation documents its 500;
- an operation with a body documents the 400 of a body that is not JSON, one with parameters or a
  body its 422;
- an authenticated operation documents its 401 (and its 403 where a level or a role is needed),
  and names its security scheme; signed brand-platform calls need the three `X-Popsell-*` headers
  together (one requirement), the email provider's webhook its basic auth;
- an operation with path parameters documents its 404 (another brand's objects answer 404 too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from functions.http_api.audiences import LazyRouters
from functions.http_api.integration_auth import SIGNED_SCHEMES
from functions.http_api.problems import PROBLEM_MEDIA_TYPE, Problem

WEBHOOK_SCHEME = "MailjetBasicAuth"
_AUTHENTICATED = {"member", "visitor", "manager", "operator", "integration", "webhook"}
_GENERIC = {
    "400": "The body is not valid JSON",
    "401": "Authentication required or refused",
    "403": "Authenticated, but the level or role does not allow it",
    "404": "Not found (or another brand's or another member's)",
    "422": "Invalid input: the problem names each field",
    "500": "Internal error",
}
_EXTRA_SCHEMES = {
    WEBHOOK_SCHEME: {"type": "http", "scheme": "basic",
                     "description": "The email provider's callback credentials (user \"mailjet\")"},
}
_PROBLEM_SCHEMAS = {"Problem": Problem.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")}
_PROBLEM_SCHEMAS.update(_PROBLEM_SCHEMAS["Problem"].pop("$defs", {}))


def _statuses(operation: dict[str, Any], path: str) -> dict[str, str]:
    """The statuses every operation of this kind can answer."""
    note = operation.get("x-access") or {}
    audience = note.get("audience")
    found = {"500"}
    if "requestBody" in operation:
        found |= {"400", "422"}
    if operation.get("parameters"):
        found.add("422")
    if audience in _AUTHENTICATED:
        found.add("401")
    if audience == "operator" or (audience == "manager" and note.get("level")) or note.get("roles"):
        found.add("403")
    if "{" in path:
        found.add("404")
    return {status: _GENERIC[status] for status in found}


def _security(operation: dict[str, Any]) -> list[dict[str, list]] | None:
    """The operation's security requirement: the three signed headers as one, the webhook's basic auth."""
    audience = (operation.get("x-access") or {}).get("audience")
    if audience == "integration":
        return [{scheme: [] for scheme in SIGNED_SCHEMES}]
    if audience == "webhook":
        return [{WEBHOOK_SCHEME: []}]
    return operation.get("security")


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared responses and security requirements to FastAPI's document (in place)."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(_PROBLEM_SCHEMAS)
    components.setdefault("securitySchemes", {}).update(_EXTRA_SCHEMES)
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _statuses(operation, path).items():
                responses.setdefault(status, {"description": description})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = problem
            security = _security(operation)
            if security is not None:
                operation["security"] = security
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    return schema


def builder(app: FastAPI, routers: LazyRouters) -> Callable[[], dict]:
    """`app.openapi`: the document of every route (each audience built first), made once."""

    def openapi() -> dict:
        routers.ensure_all()
        if not app.openapi_schema:
            app.openapi_schema = complete(get_openapi(title=app.title, version=app.version,
                                                      description=app.description, routes=app.routes))
        return app.openapi_schema

    return openapi

"""Every error as application/problem+json (RFC 9457), mapped in one table.

`type` is stable per error (`{PROBLEM_BASE}/<code>`); bad input names its fields; an
unexpected error answers 500 with the request id and no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError
from shared.json_input import MalformedJson

PROBLEM_BASE = "https://docs.popsell.com/problems"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("popsell.http")

# HTTP errors raised by the framework itself (unknown route, wrong method, ...), by status.
_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid input"),
    429: ("rate-limited", "Too many requests"),
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """The problem+json body (RFC 9457) every error response carries."""

    type: str = Field(examples=[f"{PROBLEM_BASE}/not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = Field(None, alias="requestId")
    errors: list[FieldError] | None = None


def problem_response(
    request: Request, *, status: int, code: str, title: str, detail: str | None = None, **extra: Any
) -> JSONResponse:
    """Build one problem+json response; `retry_after` (seconds) becomes a Retry-After header."""
    retry_after = extra.pop("retry_after", None)
    body: dict[str, Any] = {
        "type": f"{PROBLEM_BASE}/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "requestId": getattr(request.state, "request_id", None),
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    headers = {"Retry-After": str(int(retry_after))} if retry_after else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        errors.append({"field": ".".join(location) or "body", "message": error.get("msg", "invalid")})
    return errors


_FRAMEWORK_PARSE_ERROR = "There was an error parsing the body"


def _malformed_json(request: Request, detail: str) -> JSONResponse:
    return problem_response(request, status=400, code=MalformedJson.code, title=MalformedJson.title, detail=detail,
                            errors=[{"field": "body", "message": "not valid JSON"}])


def install_problem_handlers(app: FastAPI) -> None:
    """Map every exception to problem+json."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(error.get("type") == "json_invalid" for error in exc.errors()):
            return _malformed_json(request, "The body is not valid JSON")
        errors = _validation_errors(exc)
        detail = "Invalid value for: " + ", ".join(error["field"] for error in errors)
        return problem_response(
            request, status=422, code="validation-error", title="Invalid input", detail=detail, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FRAMEWORK_PARSE_ERROR:
            # FastAPI's answer to a body json.loads could not read (too deep, an endless integer, ...).
            return _malformed_json(request, "The body is not valid JSON (nested too deeply or a number too long)")
        code, title = _HTTP_CODES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return problem_response(request, status=exc.status_code, code=code, title=title, detail=detail)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s", type(exc).__name__, request.url.path)
        return problem_response(
            request, status=500, code="internal-error", title="Internal error",
            detail="Something went wrong on our side; quote the request id to support.",
        )


def other_success(status: int, model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry of a route's second success status (201 when it created, 200 on a replay)."""
    return {status: {"model": model, "description": description}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problem+json errors a route may return."""
    described = {**{s: t for s, (_, t) in _HTTP_CODES.items()}, 412: "Precondition failed", 500: "Internal error",
                 503: "Service unavailable"}
    return {
        status: {"model": Problem, "description": described.get(status, "Error"),
                 "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status in (*statuses, 500)
    }

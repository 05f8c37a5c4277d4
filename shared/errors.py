"""The one error hierarchy: each error has a stable code, mapped to problem+json in one table."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the product refused something; `code` is the stable problem type."""

    code = "domain-error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    """Missing, or belonging to another brand or member: both answer the same 404."""

    code = "not-found"
    status = 404
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict"


class InvalidInput(DomainError):
    code = "validation-error"
    status = 422
    title = "Invalid input"


class PayloadTooLarge(DomainError):
    """A body over a route's documented limit."""

    code = "payload-too-large"
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    """A body of a type the route does not take."""

    code = "unsupported-media-type"
    status = 415
    title = "Unsupported media type"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    """Authenticated, but the access level does not allow it (same brand only)."""

    code = "forbidden"
    status = 403
    title = "Not allowed"


class RateLimited(DomainError):
    code = "rate-limited"
    status = 429
    title = "Too many requests"


class TransientError(DomainError):
    """A dependency failed in a way worth retrying (queue handlers re-raise it)."""

    code = "service-unavailable"
    status = 503
    title = "Temporarily unavailable"


class PermanentError(DomainError):
    """A message that can never succeed (queue handlers dead-letter it)."""

    code = "unprocessable-message"
    status = 422
    title = "Message cannot be processed"

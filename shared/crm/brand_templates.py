"""Brand email templates: publications the brand writes in the Manager and its members email to their contacts.

A template is a campaign's content (title, text, link) written once by the brand. Only `published`
templates are offered to members; `archived` is final (no longer sent; campaigns already sent keep
their record and counts). Each change bumps `version`, which is also the ETag: an update must name
the version it was made from (If-Match or `version`), so two editors never overwrite each other.
Placeholders are the ones a campaign personalises per recipient: {{firstName}}, {{memberName}},
{{signature}}; any other is refused (422 naming the field).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from shared.brands.models import Brand
from shared.brands.service import check_link
from shared.errors import Conflict, DomainError, InvalidInput, NotFound
from shared.identity.models import CamelModel
from shared.ports.store import BrandStore, EtagMismatch, Filter
from shared.ports.store_retry import retrying
from shared.urls import https_url

log = logging.getLogger(__name__)

EMAIL_TEMPLATES = "email_templates"
PLACEHOLDERS = ("firstName", "memberName", "signature")
TemplateStatus = Literal["draft", "published", "archived"]
EditableStatus = Literal["draft", "published"]
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"


class PreconditionFailed(DomainError):
    """The template changed since the version the caller edited (reload, then retry)."""

    code = "precondition-failed"
    status = 412
    title = "The template changed since it was read"


class PreconditionRequired(DomainError):
    """An update that names no version could silently overwrite someone else's change."""

    code = "precondition-required"
    status = 428
    title = "If-Match or version required"


class TemplateCreate(CamelModel):
    """A new template (draft unless said otherwise)."""

    name: str = Field(min_length=1, max_length=120)
    locale: str = Field("en", pattern=_LOCALE)
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=5000)
    link: str = Field(min_length=8, max_length=2000)
    status: EditableStatus = "draft"

    @field_validator("link")
    @classmethod
    def _https(cls, value: str) -> str:
        return https_url(value)


class TemplateUpdate(CamelModel):
    """Fields to change; `version` (or the If-Match header) is the version they were made from."""

    version: int | None = Field(None, ge=1)
    name: str | None = Field(None, min_length=1, max_length=120)
    locale: str | None = Field(None, pattern=_LOCALE)
    title: str | None = Field(None, min_length=1, max_length=200)
    text: str | None = Field(None, min_length=1, max_length=5000)
    link: str | None = Field(None, min_length=8, max_length=2000)
    status: EditableStatus | None = None

    @field_validator("link")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else https_url(value)


class Template(CamelModel):
    """A stored template, as the Manager sees it."""

    id: str
    name: str
    locale: str
    title: str
    text: str
    link: str
    status: TemplateStatus
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


class MemberTemplate(CamelModel):
    """A published template as a member picks it (no internal name, no history)."""

    id: str
    version: int
    locale: str
    title: str
    text: str
    link: str


def check_placeholders(field: str, value: str) -> None:
    """Refuse placeholders a campaign cannot fill (and unbalanced braces), naming the field."""
    unknown = sorted({name for name in _PLACEHOLDER.findall(value) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)
        raise InvalidInput("Unknown placeholder", errors=[
            {"field": field, "message": f"unknown placeholder(s) {', '.join(unknown)}; allowed: {allowed}"}])
    rest = _PLACEHOLDER.sub("", value)
    if "{{" in rest or "}}" in rest:
        raise InvalidInput("Malformed placeholder", errors=[{"field": field, "message": "malformed placeholder"}])


def personalise(value: str, *, first_name: str, member_name: str, signature: str) -> str:
    """Fill the placeholders of one recipient's copy."""
    values = {"firstName": first_name, "memberName": member_name, "signature": signature}
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), value)


def _validate(brand: Brand, fields: dict[str, Any]) -> None:
    for field in ("title", "text"):
        if fields.get(field) is not None:
            check_placeholders(field, fields[field])
    if fields.get("link") is not None:
        check_link(brand, fields["link"])


def to_template(doc: dict[str, Any]) -> Template:
    """The Manager's view of a stored template."""
    return Template.model_validate(doc)


def to_member_template(doc: dict[str, Any]) -> MemberTemplate:
    """A member's view of a published template."""
    return MemberTemplate.model_validate(doc)


def create(*, store: BrandStore, brand: Brand, data: TemplateCreate, author_id: str, now: datetime) -> Template:
    """Store a new template (version 1)."""
    _validate(brand, data.model_dump())
    doc = {"id": f"et-{uuid.uuid4().hex}", **data.model_dump(by_alias=True), "version": 1,
           "createdAt": now.isoformat(), "updatedAt": now.isoformat(), "createdBy": author_id,
           "updatedBy": author_id}
    stored = store.create(EMAIL_TEMPLATES, doc)
    log.info("email template %s created (brand %s, by %s)", doc["id"], brand.id, author_id)
    return to_template(stored)


def get(*, store: BrandStore, template_id: str) -> tuple[Template, dict[str, Any]]:
    """One template of this brand (and its stored document); any other id raises NotFound."""
    doc = store.find(EMAIL_TEMPLATES, template_id)
    if doc is None:
        raise NotFound("Template not found")
    return to_template(doc), doc


def list_page(*, store: BrandStore, status: TemplateStatus | None, page_size: int,
              continuation: str | None) -> tuple[list[Template], str | None]:
    """Templates of this brand, newest first, optionally of one status."""
    filters = [Filter("status", "=", status)] if status else []
    page = store.query(EMAIL_TEMPLATES, filters=filters, order_by="createdAt", descending=True, page_size=page_size,
                       continuation=continuation)
    return [to_template(doc) for doc in page.items], page.continuation


def parse_if_match(header: str | None) -> int | None | Literal["*"]:
    """The version an If-Match header names: `"3"`, `W/"3"` or `3`; `*` matches any version."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return "*"
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match must name a template version, e.g. \"3\"")
    return int(value)


def etag(template: Template) -> str:
    """The ETag header of a template: its version, quoted."""
    return f'"{template.version}"'


def update(*, store: BrandStore, brand: Brand, template_id: str, changes: TemplateUpdate,
           if_match: int | None | Literal["*"], author_id: str, now: datetime) -> Template:
    """Apply changes made from a known version; another version raises 412, no version 428, archived 409."""
    expected = changes.version if changes.version is not None else if_match
    if expected is None:
        raise PreconditionRequired("Send If-Match (the ETag you read) or the version you edited")
    if changes.version is not None and if_match not in (None, "*", changes.version):
        raise InvalidInput("version and If-Match disagree",
                           errors=[{"field": "version", "message": "differs from the If-Match header"}])
    current, doc = get(store=store, template_id=template_id)
    if expected != "*" and expected != current.version:
        raise PreconditionFailed(f"The template is at version {current.version}")
    if current.status == "archived":
        raise Conflict("An archived template cannot be edited")
    fields = changes.model_dump(exclude_unset=True, exclude={"version"}, by_alias=True)
    fields = {key: value for key, value in fields.items() if value is not None}
    _validate(brand, fields)
    new = {**doc, **fields, "version": current.version + 1, "updatedAt": now.isoformat(), "updatedBy": author_id}
    try:
        stored = store.replace(EMAIL_TEMPLATES, new, etag=doc["_etag"])
    except EtagMismatch as exc:  # changed between our read and write: the same answer as a stale version
        raise PreconditionFailed("The template changed since it was read") from exc
    log.info("email template %s updated to version %d (brand %s, by %s)", template_id, new["version"], brand.id,
             author_id)
    return to_template(stored)


def archive(*, store: BrandStore, brand_id: str, template_id: str, author_id: str, now: datetime) -> Template:
    """Archive for good (idempotent): members no longer see or send it; sent campaigns keep their counts."""

    def attempt() -> Template:
        current, doc = get(store=store, template_id=template_id)
        if current.status == "archived":
            return current
        new = {**doc, "status": "archived", "version": current.version + 1, "updatedAt": now.isoformat(),
               "archivedAt": now.isoformat(), "updatedBy": author_id}
        stored = store.replace(EMAIL_TEMPLATES, new, etag=doc["_etag"])
        log.info("email template %s archived (brand %s, by %s)", template_id, brand_id, author_id)
        return to_template(stored)

    # An archive wins over a concurrent edit rather than failing.
    return retrying(attempt, attempts=5, exhausted=Conflict("The template keeps changing; try again"))


def published(*, store: BrandStore, template_id: str) -> Template:
    """A template a member may send: unknown, another brand's or draft → 404; archived → 422 naming templateId."""
    template, _ = get(store=store, template_id=template_id)
    if template.status == "draft":
        raise NotFound("Template not found")
    if template.status == "archived":
        raise InvalidInput("This template was archived", errors=[
            {"field": "templateId", "message": "archived: it can no longer be sent"}])
    return template


def list_published(*, store: BrandStore, page_size: int, continuation: str | None) -> tuple[list[MemberTemplate],
                                                                                             str | None]:
    """Published templates of this brand, newest first (what members may send)."""
    page = store.query(EMAIL_TEMPLATES, filters=[Filter("status", "=", "published")], order_by="createdAt",
                       descending=True, page_size=page_size, continuation=continuation)
    return [to_member_template(doc) for doc in page.items], page.continuation

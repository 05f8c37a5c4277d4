"""Load and save identity documents (members, external users, Manager users) as models.

One place turns documents into models and back, so every service reads the same shapes and
keeps the etag for optimistic concurrency.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from shared.errors import Conflict, NotFound
from shared.identity.directory_index import directory_fields
from shared.identity.member_retention import retention_block
from shared.identity.models import ExternalUser, ManagerUser, Member
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, PatchOp
from shared.ports.store_retry import retrying

MEMBERS = "members"
VISITORS = "visitors"
MANAGER_USERS = "manager_users"
IDENTITY_KEYS = "identity_keys"

Model = TypeVar("Model", bound=BaseModel)

# Fields the store or this module adds to documents, not part of the models.
_DERIVED = frozenset({"brandId", "directory", "retention"})


def to_document(model: BaseModel) -> dict[str, Any]:
    """The stored JSON form (camelCase, ISO dates); a member also carries its directory and retention blocks."""
    doc = model.model_dump(mode="json", by_alias=True)
    if isinstance(model, Member):
        doc["directory"] = directory_fields(model)
        doc["retention"] = retention_block(model)
    return doc


def from_document(model_type: type[Model], doc: dict[str, Any]) -> tuple[Model, str | None]:
    """A model and the etag it was read at."""
    etag = doc.get("_etag")
    fields = {key: value for key, value in doc.items() if not key.startswith("_") and key not in _DERIVED}
    return model_type.model_validate(fields), etag


def _get(store: BrandStore, container: str, model_type: type[Model], id: str, what: str) -> tuple[Model, str | None]:
    try:
        return from_document(model_type, store.get(container, id))
    except DocumentNotFound as exc:
        raise NotFound(f"{what} not found") from exc


def get_member(*, store: BrandStore, member_id: str) -> tuple[Member, str | None]:
    """A member of this brand and its etag; NotFound otherwise (another brand's member included)."""
    return _get(store, MEMBERS, Member, member_id, "Member")


def get_visitor(*, store: BrandStore, visitor_id: str) -> tuple[ExternalUser, str | None]:
    """An external user of this brand and its etag."""
    return _get(store, VISITORS, ExternalUser, visitor_id, "Visitor")


def get_manager_user(*, store: BrandStore, user_id: str) -> tuple[ManagerUser, str | None]:
    """A Manager user of this brand (or of the platform scope) and its etag."""
    return _get(store, MANAGER_USERS, ManagerUser, user_id, "Manager user")


def member_name(*, store: BrandStore, member_id: str) -> str | None:
    """The name a member's contacts know them by (first and last name), or None (erased, unknown)."""
    doc = store.find(MEMBERS, member_id) or {}
    return " ".join(part for part in (doc.get("firstName"), doc.get("lastName")) if part) or None


def save(*, store: BrandStore, container: str, model: BaseModel, etag: str | None) -> str:
    """Replace with the etag read (Conflict when another writer won), or create when etag is None."""
    doc = to_document(model)
    if etag is None:
        try:
            return store.create(container, doc)["_etag"]
        except DocumentConflict as exc:
            raise Conflict("It already exists") from exc
    return store.replace(container, doc, etag=etag)["_etag"]


def reproject_members(*, store: BrandStore) -> int:
    """Write again the directory projection of every member whose stored one is not what the code
    computes now (a database from before a change of `directory_fields`); how many were rewritten.

    Only `directory` is set (by patch, with the etag read), so nothing else of a document changes; a
    member written meanwhile is read again. Run once per brand after such a change
    (docs/decisions/0038-directory-indexes.md).
    """
    rewritten, continuation = 0, None
    while True:
        page = store.query(MEMBERS, page_size=100, continuation=continuation)
        for doc in page.items:
            rewritten += _reproject(store, doc)
        continuation = page.continuation
        if continuation is None:
            return rewritten


def _reproject(store: BrandStore, first: dict[str, Any]) -> int:
    unread = [first]

    def attempt() -> int:
        doc = unread.pop() if unread else store.get(MEMBERS, first["id"])
        model, etag = from_document(Member, doc)
        projection = directory_fields(model)
        if doc.get("directory") == projection:
            return 0
        store.patch(MEMBERS, doc["id"], [PatchOp("set", "directory", projection)], etag=etag)
        return 1

    return retrying(attempt, attempts=3)


def key_id(kind: str, hashed: str) -> str:
    """Id of a unique-key document: one per keyed hash of an email, customer id or social id."""
    return f"{kind}:{hashed}"


def claim_key(*, store: BrandStore, kind: str, hashed: str, owner_id: str, owner_type: str) -> bool:
    """Reserve a unique identifier for an owner; False when someone else holds it (race-free by create)."""
    try:
        store.create(IDENTITY_KEYS, {"id": key_id(kind, hashed), "ownerId": owner_id, "ownerType": owner_type})
        return True
    except DocumentConflict:
        existing = store.get(IDENTITY_KEYS, key_id(kind, hashed))
        return existing["ownerId"] == owner_id


def owner_of(*, store: BrandStore, kind: str, hashed: str) -> str | None:
    """Who holds a unique identifier, if anyone."""
    doc = store.find(IDENTITY_KEYS, key_id(kind, hashed))
    return doc["ownerId"] if doc else None


def release_key(*, store: BrandStore, kind: str, hashed: str, owner_id: str) -> None:
    """Give an identifier back (e.g. a changed email); only its owner can."""
    doc = store.find(IDENTITY_KEYS, key_id(kind, hashed))
    if doc and doc["ownerId"] == owner_id:
        store.delete(IDENTITY_KEYS, doc["id"])

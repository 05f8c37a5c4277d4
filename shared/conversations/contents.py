"""What a message holds beyond text: shared products, data-entry forms and answers, ratings, media.

`build` checks a message's input against its conversation and turns it into the stored parts:
- a product is copied from the catalog as it is when shared (the mini product page: photos, title,
  price, availability, its page), so the conversation's history shows what the visitor was shown;
- a recommended list is the member's own list (or the products named), as cards;
- a form (data-entry assistance) is the member's; its answer is the visitor's, checked against the
  form's fields. A first name and an email are the visitor's personal data: they go to the
  visitor's account (the email to `email_tmp` only, under the service terms), never into the
  message, which records only that they were given;
- a rating answers a rating request, once: its id derives from the request, so a second rating of
  the same request is refused (409) and a retry of the first lands once;
- a photo or video is an upload of the author's, claimed by this message (shared/media).
Members share lists, forms and rating requests; visitors answer forms and rate (403 otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shared.catalog import member_products, pages
from shared.catalog import products as catalog
from shared.conversations.models import (
    MAX_PRODUCTS,
    MEMBER_ONLY,
    PERSONAL_FIELDS,
    VISITOR_ONLY,
    FormAnswerIn,
    FormIn,
    MediaIn,
    Party,
    ProductMessageIn,
    ProductsMessageIn,
    RatingIn,
    RatingRequestIn,
    TextIn,
)
from shared.errors import Forbidden, InvalidInput
from shared.ports.store import BrandStore

MAX_IMAGES = 6
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ANSWER = 500


@dataclass
class Built:
    """A message's stored parts, what the visitor's account gets, and the key making it unique (ratings)."""

    parts: dict[str, Any]
    personal: dict[str, str] = field(default_factory=dict)
    unique_key: str | None = None
    media_id: str | None = None


@dataclass(frozen=True)
class Shop:
    """What product cards need of the brand: its social-commerce setting and the App's address."""

    brand_id: str
    social_commerce: bool
    app_base_url: str


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for: {field_name}", errors=[{"field": field_name, "message": message}])


def card(doc: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """A product's mini page, as the catalog has it now."""
    images = [link for link in [doc.get("imageLink"), *doc.get("additionalImageLinks", [])] if link][:MAX_IMAGES]
    return {"productId": doc["id"], "title": doc["title"], "link": doc["link"],
            "pageUrl": pages.page_url(doc, social_commerce=shop.social_commerce, app_base_url=shop.app_base_url,
                                      brand_id=shop.brand_id),
            "imageLinks": images, "price": doc["price"], "salePrice": doc.get("salePrice"),
            "availability": doc["availability"]}


def _active_product(store: BrandStore, product_id: str, field_name: str) -> dict[str, Any]:
    doc = store.find(catalog.PRODUCTS, product_id)
    if doc is None or doc.get("status") != "active":
        raise _invalid(field_name, "not a product of the catalog")
    return doc


def _replied(store: BrandStore, pk: str, message_id: str, kind: str) -> dict[str, Any]:
    """The message of this conversation an answer replies to, of the kind it answers; 422 otherwise."""
    doc = store.find("messages", message_id, pk=pk)
    if doc is None or doc.get("kind") != kind:
        raise _invalid("replyTo", f"not a {kind.replace('_', ' ')} of this conversation")
    return doc


def _answer(value: str, spec: dict[str, Any]) -> str:
    name, kind, value = spec["name"], spec["type"], value.strip()
    if len(value) > MAX_ANSWER:
        raise _invalid(f"values.{name}", f"at most {MAX_ANSWER} characters")
    if kind == "number":
        try:
            float(value.replace(",", "."))
        except ValueError:
            raise _invalid(f"values.{name}", "a number") from None
    elif kind == "choice" and value not in spec["options"]:
        raise _invalid(f"values.{name}", "one of the options offered")
    elif kind == "postcode" and not _POSTCODE.match(value):
        raise _invalid(f"values.{name}", "a postcode")
    elif kind == "email" and not _EMAIL.match(value):
        raise _invalid(f"values.{name}", "an email address")
    return value


def _form_answer(store: BrandStore, pk: str, data: FormAnswerIn) -> Built:
    form = _replied(store, pk, data.reply_to, "form")
    specs = {spec["name"]: spec for spec in form["fields"]}
    unknown = sorted(set(data.values) - set(specs))
    if unknown:
        raise _invalid(f"values.{unknown[0]}", "not a field of this form")
    missing = [name for name, spec in specs.items() if spec["required"] and not data.values.get(name, "").strip()]
    if missing:
        raise _invalid(f"values.{missing[0]}", "required")
    values, personal = {}, {}
    for name, raw in data.values.items():
        if not raw.strip():
            continue
        answer = _answer(raw, specs[name])
        if specs[name]["type"] in PERSONAL_FIELDS:
            personal[specs[name]["type"]] = answer
        else:
            values[name] = answer
    parts = {"replyTo": data.reply_to, "values": values, "provided": sorted(personal)}
    return Built(parts=parts, personal=personal)


def build(*, store: BrandStore, shop: Shop, author: Party, pk: str, data: Any) -> Built:
    """The stored parts of a message (raises 403 for a kind its author may not send, 422 naming a bad field)."""
    if data.kind in MEMBER_ONLY and author.kind != "member":
        raise Forbidden(f"Only the member sends a message of kind {data.kind}")
    if data.kind in VISITOR_ONLY and author.kind != "visitor":
        raise Forbidden(f"Only the visitor sends a message of kind {data.kind}")
    if isinstance(data, TextIn):
        return Built(parts={"text": data.text})
    if isinstance(data, ProductMessageIn):
        return Built(parts={"text": data.text, "product": card(_active_product(store, data.product_id, "productId"),
                                                               shop)})
    if isinstance(data, ProductsMessageIn):
        if data.product_ids is None:
            shown = member_products.shown(store=store, member_id=author.id)["recommended"][:MAX_PRODUCTS]
            docs = [doc for _, doc in shown]
            if not docs:
                raise _invalid("productIds", "your recommended list is empty: name the products")
        else:
            docs = [_active_product(store, product_id, f"productIds.{index}")
                    for index, product_id in enumerate(dict.fromkeys(data.product_ids))]
        return Built(parts={"text": data.text, "products": [card(doc, shop) for doc in docs]})
    if isinstance(data, FormIn):
        return Built(parts={"text": data.text, "fields": [spec.model_dump() for spec in data.fields]})
    if isinstance(data, FormAnswerIn):
        return _form_answer(store, pk, data)
    if isinstance(data, RatingRequestIn):
        return Built(parts={"text": data.text})
    if isinstance(data, RatingIn):
        _replied(store, pk, data.reply_to, "rating_request")
        return Built(parts={"replyTo": data.reply_to, "score": data.score, "comment": data.comment},
                     unique_key=f"rating\x1f{data.reply_to}")
    if isinstance(data, MediaIn):
        return Built(parts={"text": data.text}, media_id=data.media_id)
    raise _invalid("kind", "unknown kind")

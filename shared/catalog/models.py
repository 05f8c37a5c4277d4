"""The brand's catalog as its platform sends it: products, categories, stores (docs/catalog.md).

Field names and limits follow Google Merchant Center's product data specification (which brand
feeds already carry): `id` (the brand's own, at most 50 characters), `title` (150), `description`
(5,000), `link` and image links (https), `availability`, `price` and `salePrice`, `brand` (70),
`gtin`, `mpn` (70), `condition`, `itemGroupId` (50) with the variant's `color`, `size` and
`material`. Prices are in minor units with their ISO 4217 currency, as orders are.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.identity.models import GeoPoint

# The brand's own ids: what its platform names products, categories and stores by.
CATALOG_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,49}$"
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
_CATALOG_ID = re.compile(CATALOG_ID)
_LOCALE = re.compile(LOCALE)
Availability = Literal["in_stock", "out_of_stock", "preorder", "backorder"]
Condition = Literal["new", "refurbished", "used"]
StoreStatus = Literal["open", "temporarily_closed", "closed"]
MAX_ADDITIONAL_IMAGES = 10
MAX_CATEGORIES_PER_PRODUCT = 20
MAX_TRANSLATIONS = 30


class Input(BaseModel):
    """What a caller sends: camelCase or snake_case names, no unknown field, whitespace stripped."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)


# https, a host of letters, digits, dots and dashes (an optional port), then any path without spaces:
# checked by one compiled pattern, since a batch checks up to 5,500 links.
_HTTPS = re.compile(r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?(?:[/?#][^\s]*)?$")


def https_url(value: str) -> str:
    """A link a member's visitor is sent to or an image the App shows: https, with a host, at most 2,000 characters."""
    if len(value) > 2000 or not _HTTPS.match(value):
        raise ValueError("must be an https URL")
    return value


class Money(Input):
    """An amount in minor units (cents) and its ISO 4217 currency."""

    amount_minor: int = Field(alias="amountMinor", ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class ProductText(Input):
    """A product's title and description in one locale."""

    title: str = Field(min_length=1, max_length=150)
    description: str | None = Field(None, max_length=5000)


class ProductIn(Input):
    """One product as the brand's platform sends it (one variant, when `itemGroupId` groups several)."""

    id: str = Field(pattern=CATALOG_ID)
    title: str = Field(min_length=1, max_length=150)
    description: str | None = Field(None, max_length=5000)
    link: str
    image_link: str | None = Field(None, alias="imageLink")
    additional_image_links: list[str] = Field(default_factory=list, alias="additionalImageLinks",
                                              max_length=MAX_ADDITIONAL_IMAGES)
    availability: Availability
    price: Money
    sale_price: Money | None = Field(None, alias="salePrice")
    brand: str | None = Field(None, max_length=70)
    gtin: str | None = Field(None, pattern=r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
    mpn: str | None = Field(None, max_length=70)
    condition: Condition = "new"
    item_group_id: str | None = Field(None, alias="itemGroupId", pattern=CATALOG_ID)
    color: str | None = Field(None, max_length=100)
    size: str | None = Field(None, max_length=100)
    material: str | None = Field(None, max_length=200)
    category_ids: list[str] = Field(default_factory=list, alias="categoryIds", max_length=MAX_CATEGORIES_PER_PRODUCT)
    # The title and description in the brand's other selling languages ("fr", "de-CH").
    translations: dict[str, ProductText] = Field(default_factory=dict, max_length=MAX_TRANSLATIONS)

    @field_validator("link", "image_link")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else https_url(value)

    @field_validator("additional_image_links")
    @classmethod
    def _https_all(cls, values: list[str]) -> list[str]:
        return [https_url(value) for value in values]

    @field_validator("category_ids")
    @classmethod
    def _category_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _CATALOG_ID.match(value):
                raise ValueError(f"{value!r} is not a category id")
        return list(dict.fromkeys(values))  # in the brand's order, once each

    @field_validator("translations")
    @classmethod
    def _locales(cls, values: dict[str, ProductText]) -> dict[str, ProductText]:
        for locale in values:
            if not _LOCALE.match(locale):
                raise ValueError(f"{locale!r} is not a locale (\"fr\", \"de-CH\")")
        return values

    @field_validator("gtin")
    @classmethod
    def _gtin_check_digit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = [int(char) for char in value]
        body, check = digits[:-1], digits[-1]
        total = sum(digit * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
        if (10 - total % 10) % 10 != check:
            raise ValueError("the GTIN's check digit is wrong")
        return value

    @model_validator(mode="after")
    def _sale_price(self) -> ProductIn:
        if self.sale_price is not None:
            if self.sale_price.currency != self.price.currency:
                raise ValueError("salePrice must be in the currency of price")
            if self.sale_price.amount_minor > self.price.amount_minor:
                raise ValueError("salePrice must not be above price")
        return self


class CategoryIn(Input):
    """One node of the brand's category tree: a stable id, its parent (None: a root), its place among siblings."""

    id: str = Field(pattern=CATALOG_ID)
    name: str = Field(min_length=1, max_length=100)
    parent_id: str | None = Field(None, alias="parentId", pattern=CATALOG_ID)
    order: int = Field(0, ge=0, le=100_000)
    translations: dict[str, str] = Field(default_factory=dict, max_length=MAX_TRANSLATIONS)

    @field_validator("translations")
    @classmethod
    def _locales(cls, values: dict[str, str]) -> dict[str, str]:
        for locale, name in values.items():
            if not _LOCALE.match(locale) or not 1 <= len(name) <= 100:
                raise ValueError(f"{locale!r}: a locale (\"fr\", \"de-CH\") and a name of 1 to 100 characters")
        return values

    @model_validator(mode="after")
    def _not_its_own_parent(self) -> CategoryIn:
        if self.parent_id == self.id:
            raise ValueError("a category cannot be its own parent")
        return self


class StoreIn(Input):
    """One of the brand's physical stores (a member's home shop, the directory's search by store)."""

    id: str = Field(pattern=CATALOG_ID)
    name: str = Field(min_length=1, max_length=120)
    street: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, alias="postalCode", max_length=20)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    location: GeoPoint | None = None
    status: StoreStatus = "open"


class ProductCard(BaseModel):
    """A catalog product as the App and the widget show it in a picking interface or a list."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    title: str
    link: str
    image_link: str | None = Field(None, alias="imageLink")
    availability: Availability
    price: Money
    sale_price: Money | None = Field(None, alias="salePrice")
    brand: str | None = None
    item_group_id: str | None = Field(None, alias="itemGroupId")
    page_url: str | None = Field(None, alias="pageUrl", description=(
        "The product's page: the App's with the brand's social commerce on, the brand's own `link` otherwise"))


class VariantCard(ProductCard):
    """One variant of a product's item group: its colour, size and material."""

    color: str | None = None
    size: str | None = None
    material: str | None = None


class ProductDetail(VariantCard):
    """A product as its detail page shows it: every image, the description, the variants of its group."""

    description: str | None = None
    additional_image_links: list[str] = Field(default_factory=list, alias="additionalImageLinks")
    gtin: str | None = None
    condition: Condition = "new"
    category_ids: list[str] = Field(default_factory=list, alias="categoryIds")
    variants: list[VariantCard] = Field(default_factory=list)


class ProductPage(BaseModel):
    """One page of the catalog's products; pass `continuation` back for the next (None: the last page)."""

    items: list[ProductCard]
    continuation: str | None = None


class CategoryCount(BaseModel):
    """A category of the browse tree, with the active products it shows (its subcategories' included)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    name: str
    parent_id: str | None = Field(None, alias="parentId")
    path: str
    depth: int
    order: int
    count: int


class CategoryBrowse(BaseModel):
    """The brand's category tree, depth-first in the brand's order, and the catalog's active products."""

    items: list[CategoryCount]
    total: int

"""A brand (tenant) and its whole programme configuration, with the Data Protection Guide's defaults."""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.store_schema import PLATFORM_SCOPE
from shared.urls import HttpsUrl, WebUrl, origin

BRAND_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
MAX_ORIGINS = 50  # widget origins of one brand
MAX_DOMAINS = 100  # allowed domains of one brand
MAX_JWKS_KEYS = 20  # a provider's published keys (a handful in practice, rotation included)


class Scenario(IntEnum):
    """The guide's `pro` field: which scenario applies to the brand."""

    CLASSIC = 0
    DIRECT_SELLING = 2
    SELECTIVE_SALE = 3
    SELECTIVE_SALE_ALT = 4


# Before the suspension's cap counted calendar months it was `suspensionMaxDays` (183 by default):
# a stored brand still holding it reads as whole months of 30 days (183 -> 6, 60 -> 2), at least one.
LEGACY_SUSPENSION_DAYS = "suspensionMaxDays"
SUSPENSION_MAX_MONTHS = 6


def _months_of_legacy_days(days: object) -> int:
    if not isinstance(days, int) or isinstance(days, bool):
        raise ValueError(f"{LEGACY_SUSPENSION_DAYS} must be a number of days")
    return max(1, min(SUSPENSION_MAX_MONTHS, days // 30))


class RetentionSettings(BaseModel):
    """Every retention duration, with the guide's default (Data Protection Guide v4): in days, except
    the programme suspension's cap, in calendar months (the guide: "for a maximum of 6 months").

    A brand may shorten a duration, never lengthen it past the guide's default: the guide
    says data is never kept longer than these periods "unless shortened by the brand".
    """

    model_config = ConfigDict(populate_by_name=True)

    unsubscription_days: int = Field(7, ge=1, le=7, alias="unsubscriptionDays")
    end_of_contract_days: int = Field(7, ge=1, le=7, alias="endOfContractDays")
    brand_contract_end_days: int = Field(7, ge=1, le=7, alias="brandContractEndDays")
    # Also how long a form's contact has to confirm their address ("Same parameter is used as in previous case").
    invitation_pending_days: int = Field(15, ge=1, le=15, alias="invitationPendingDays")
    contacts_never_invited_days: int = Field(30, ge=1, le=30, alias="contactsNeverInvitedDays")
    opted_out_contacts_days: int = Field(365, ge=1, le=365, alias="optedOutContactsDays")
    inactivity_days: int = Field(1095, ge=30, le=1095, alias="inactivityDays")
    suspension_max_months: int = Field(SUSPENSION_MAX_MONTHS, ge=1, le=SUSPENSION_MAX_MONTHS,
                                       alias="suspensionMaxMonths")

    @model_validator(mode="before")
    @classmethod
    def _legacy_suspension_days(cls, data: Any) -> Any:
        """A brand stored with the cap in days keeps it (converted); the new setting, when present, wins."""
        if not isinstance(data, dict) or LEGACY_SUSPENSION_DAYS not in data:
            return data
        data = dict(data)
        days = data.pop(LEGACY_SUSPENSION_DAYS)
        if "suspensionMaxMonths" not in data and "suspension_max_months" not in data:
            data["suspensionMaxMonths"] = _months_of_legacy_days(days)
        return data

    @classmethod
    def api_names(cls) -> frozenset[str]:
        """The names the API gives the durations (what a partial update may name)."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())


class RegistrationSettings(BaseModel):
    """Who may sign up as a member: open, whitelist (hashed emails / customer IDs), SSO only."""

    model_config = ConfigDict(populate_by_name=True)

    whitelist_enabled: bool = Field(False, alias="whitelistEnabled")
    sso_exclusive: bool = Field(False, alias="ssoExclusive")


DisplayNamePolicy = Literal["full_name", "first_name_initial", "alias"]
# What each policy shows of a member, hence which names a signup must give (camelCase, as the API names them):
# "full_name" and "first_name_initial" show names built from both; "alias" shows the alias only.
REQUIRED_NAMES: dict[DisplayNamePolicy, tuple[str, ...]] = {
    "full_name": ("firstName", "lastName"),
    "first_name_initial": ("firstName", "lastName"),
    "alias": ("alias",),
}
SocialProvider = Literal["google", "apple", "facebook"]
# How a customer without a dedicated member gets one automatically (shared/sales/dedicated.py).
DedicatedMemberRule = Literal["none", "last_served", "home_store", "nearest_store"]


class SocialProviderSettings(BaseModel):
    """One social-login provider for the brand's App: its client id and public keys (a JWKS)."""

    model_config = ConfigDict(populate_by_name=True)

    client_id: str = Field(alias="clientId", min_length=1, max_length=300)
    jwks: dict[str, Any]
    issuers: list[HttpsUrl] | None = Field(None, max_length=10)

    @field_validator("jwks")
    @classmethod
    def _has_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("keys"), list) or not value["keys"]:
            raise ValueError("jwks must be a JSON Web Key Set with at least one key")
        if len(value["keys"]) > MAX_JWKS_KEYS:
            raise ValueError(f"jwks holds at most {MAX_JWKS_KEYS} keys")
        return value
SaleChannel = Literal["online", "in_store", "phygital"]


class CommissionRule(BaseModel):
    """How much a member earns on an attributed sale: a percentage of the line amount, or a fixed
    amount per unit sold; optionally only for one sale channel and/or one product category.
    The most specific matching rule applies (see shared/sales/commissions.py)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    channel: SaleChannel | None = None
    category: str | None = Field(None, min_length=1, max_length=80)
    kind: Literal["percentage", "fixed"]
    rate_percent: float | None = Field(None, alias="ratePercent", gt=0, le=100)
    amount_minor: int | None = Field(None, alias="amountMinor", gt=0, le=10_000_000)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _complete(self) -> CommissionRule:
        if self.kind == "percentage" and (self.rate_percent is None or self.amount_minor is not None):
            raise ValueError("a percentage rule gives ratePercent only")
        if self.kind == "fixed" and (self.amount_minor is None or self.currency is None or self.rate_percent):
            raise ValueError("a fixed rule gives amountMinor and currency")
        return self


BrandStatus = Literal["active", "suspended", "contract_ended"]


class BrandSettings(BaseModel):
    """The editable part of a brand: what a brand admin (or the operator) may change."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=120)
    scenario: Scenario = Field(Scenario.CLASSIC, alias="pro")
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    display_name_policy: DisplayNamePolicy = Field("full_name", alias="displayNamePolicy")
    registration: RegistrationSettings = Field(default_factory=RegistrationSettings)
    # The guide's "Brand opt-in parameter": None (not set) behaves as False.
    brand_opt_in: bool | None = Field(None, alias="brandOptIn")
    attribution_window_days: int = Field(180, ge=1, le=180, alias="attributionWindowDays")
    # How long a store voucher can be used; at most 90 days, the email log's life, so that asking
    # for a voucher again while it is open never sends its email twice (shared/crm/vouchers.py).
    voucher_validity_days: int = Field(30, ge=1, le=90, alias="voucherValidityDays")
    widget_allowed_origins: list[str] = Field(default_factory=list, alias="widgetAllowedOrigins",
                                              max_length=MAX_ORIGINS)
    allowed_domains: list[str] = Field(default_factory=list, alias="allowedDomains", max_length=MAX_DOMAINS)
    home_url: WebUrl | None = Field(None, alias="homeUrl")
    default_locale: str = Field("en", alias="defaultLocale", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    privacy_policy_url: WebUrl | None = Field(None, alias="privacyPolicyUrl")
    # Deprecated in v4 (manual entry, private-list import): off unless the brand turns them on.
    manual_contact_entry: bool = Field(False, alias="manualContactEntry")
    social_login: dict[SocialProvider, SocialProviderSettings] = Field(default_factory=dict, alias="socialLogin")
    commission_rules: list[CommissionRule] = Field(default_factory=list, alias="commissionRules", max_length=200)
    # The Social Commerce scenario: product pages are the App's (photos, description, prices); off, a
    # product's page is the brand's own (shared/catalog/pages.py).
    social_commerce: bool = Field(False, alias="socialCommerce")
    # A waiting-list request nobody picks up within this many minutes counts as abandoned (and leaves the list).
    waiting_list_abandon_minutes: int = Field(15, ge=1, le=1440, alias="waitingListAbandonMinutes")
    # A customer's dedicated member: the automatic rule (besides the brand platform's assignments), and
    # whether a client may choose theirs in the widget.
    dedicated_member_rule: DedicatedMemberRule = Field("none", alias="dedicatedMemberRule")
    dedicated_member_choice: bool = Field(True, alias="dedicatedMemberCustomerChoice")

    @field_validator("widget_allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return sorted({origin(value) for value in values})

    def allows_host(self, host: str | None) -> bool:
        """Whether a URL's host is one of the brand's allowed domains or a subdomain of one."""
        host = (host or "").rstrip(".").lower()
        return bool(host) and any(host == domain or host.endswith("." + domain) for domain in self.allowed_domains)

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        pattern = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
        cleaned = sorted({value.strip().lower() for value in values})
        for value in cleaned:
            if not pattern.match(value):
                raise ValueError(f"{value!r} is not a domain name")
        return cleaned


class IntegrationKey(BaseModel):
    """A brand platform's key for signed integration calls (HMAC) or SSO assertions."""

    model_config = ConfigDict(populate_by_name=True)

    kid: str
    secret: str
    created_at: datetime = Field(alias="createdAt")


class Brand(BrandSettings):
    """A brand document: settings plus identity, status and keys."""

    id: str
    status: BrandStatus = "active"
    integration_keys: list[IntegrationKey] = Field(default_factory=list, alias="integrationKeys")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    status_changed_at: datetime | None = Field(None, alias="statusChangedAt")

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_brand_id(value)


def validate_brand_id(value: str) -> str:
    """A brand id is a short lowercase slug, never the platform's own scope."""
    if not BRAND_ID_PATTERN.match(value) or value == PLATFORM_SCOPE:
        raise ValueError("brand id must be 3-40 lowercase letters, digits or dashes (and not 'platform')")
    return value


class BrandCreate(BrandSettings):
    """Body of a brand creation by the platform operator."""

    id: str

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_brand_id(value)


class BrandUpdate(BaseModel):
    """A partial update: only the fields given change (nested objects merge)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    scenario: Scenario | None = Field(None, alias="pro")
    retention: dict[str, int] | None = None
    display_name_policy: DisplayNamePolicy | None = Field(None, alias="displayNamePolicy")
    registration: dict[str, bool] | None = None
    brand_opt_in: bool | None = Field(None, alias="brandOptIn")
    attribution_window_days: int | None = Field(None, alias="attributionWindowDays")
    voucher_validity_days: int | None = Field(None, alias="voucherValidityDays")
    widget_allowed_origins: list[str] | None = Field(None, alias="widgetAllowedOrigins", max_length=MAX_ORIGINS)
    allowed_domains: list[str] | None = Field(None, alias="allowedDomains", max_length=MAX_DOMAINS)
    home_url: WebUrl | None = Field(None, alias="homeUrl")
    default_locale: str | None = Field(None, alias="defaultLocale")
    privacy_policy_url: WebUrl | None = Field(None, alias="privacyPolicyUrl")
    manual_contact_entry: bool | None = Field(None, alias="manualContactEntry")
    social_login: dict[SocialProvider, SocialProviderSettings] | None = Field(None, alias="socialLogin")
    commission_rules: list[CommissionRule] | None = Field(None, alias="commissionRules", max_length=200)
    social_commerce: bool | None = Field(None, alias="socialCommerce")
    waiting_list_abandon_minutes: int | None = Field(None, ge=1, le=1440, alias="waitingListAbandonMinutes")
    dedicated_member_rule: DedicatedMemberRule | None = Field(None, alias="dedicatedMemberRule")
    dedicated_member_choice: bool | None = Field(None, alias="dedicatedMemberCustomerChoice")

    @field_validator("retention")
    @classmethod
    def _known_durations(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        # A name the settings do not know would be stored and ignored: refused, so the brand knows.
        unknown = sorted(set(value or {}) - RetentionSettings.api_names())
        if LEGACY_SUSPENSION_DAYS in unknown:
            raise ValueError(f"{LEGACY_SUSPENSION_DAYS} was replaced by suspensionMaxMonths (calendar months, at most "
                             f"{SUSPENSION_MAX_MONTHS})")
        if unknown:
            raise ValueError(f"unknown retention settings: {', '.join(unknown)}")
        return value


class IntegrationKeyRead(BaseModel):
    """A key as listed: never its secret."""

    model_config = ConfigDict(populate_by_name=True)

    kid: str
    created_at: datetime = Field(alias="createdAt")


class BrandRead(BrandSettings):
    """A brand as the Manager API shows it: secrets left out."""

    id: str
    status: BrandStatus
    integration_keys: list[IntegrationKeyRead] = Field(alias="integrationKeys")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class IntegrationKeyCreated(BaseModel):
    """A new integration key: its secret is shown this once."""

    model_config = ConfigDict(populate_by_name=True)

    kid: str
    secret: str
    created_at: datetime = Field(alias="createdAt")

"""Settings, read from the environment (POPSELL_*) with pydantic-settings.

Every setting is listed in `local.settings.sample.json` with a safe local value. Outside a
local run the settings refuse insecure defaults, and a Cosmos region outside the EU is
refused at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Azure regions inside the European Union (docs/architecture.md "Data": data stays in EU regions).
EU_REGIONS = frozenset(
    {
        "West Europe",
        "North Europe",
        "France Central",
        "France South",
        "Germany West Central",
        "Germany North",
        "Sweden Central",
        "Sweden South",
        "Italy North",
        "Poland Central",
        "Spain Central",
        "Austria East",
        "Belgium Central",
        "Denmark East",
    }
)

# Dev-only secrets: accepted in a local run, refused anywhere else.
LOCAL_HASH_MASTER_KEY = "local-only-hash-master-key-change-me"
LOCAL_TOKEN_KEYS = "local1:local-only-token-signing-key-change-me"  # noqa: S105 - refused outside local runs
LOCAL_WEBHOOK_SECRET = "local-only-mailjet-webhook-password"  # noqa: S105 - set by `make run`, refused elsewhere


class Settings(BaseSettings):
    """All configuration of the app, one field per POPSELL_* variable."""

    model_config = SettingsConfigDict(env_prefix="POPSELL_", extra="ignore", frozen=True)

    env: Literal["local", "test", "production"] = "local"
    data_dir: Path = Path(".data")
    public_base_url: str = "http://127.0.0.1:7071"
    log_level: str = "INFO"

    # Adapters (docs/architecture.md "Ports and adapters"): embedded defaults, or the Azure ones.
    store: Literal["sqlite", "cosmos"] = "sqlite"
    bus: Literal["sqlite", "servicebus"] = "sqlite"
    blobs: Literal["folder", "azure"] = "folder"
    mailer: Literal["outbox", "mailjet"] = "outbox"
    # Realtime pushes (docs/realtime.md): the WebSocket hub in this process, or Azure Web PubSub.
    realtime: Literal["local", "webpubsub"] = "local"
    # Member push notifications (docs/notifications.md): a disk outbox, or Web Push with VAPID.
    notifier: Literal["outbox", "webpush"] = "outbox"

    cosmos_endpoint: str = ""
    cosmos_key: str = ""  # empty: managed identity (DefaultAzureCredential)
    cosmos_database: str = "popsell"
    # Comma-separated in the environment ("West Europe,North Europe"), parsed below.
    cosmos_regions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["West Europe", "North Europe"])
    cosmos_verify_tls: bool = True

    servicebus_namespace: str = ""  # e.g. popsell-sb.servicebus.windows.net (managed identity)
    servicebus_connection: str = ""  # a connection string instead, for tools only
    max_delivery_count: int = 10

    blob_account_url: str = ""  # e.g. https://popsellst.blob.core.windows.net (managed identity)
    blob_connection_string: str = ""  # Azurite or tools only
    # The backup storage account (its snapshot containers are immutable: docs/decisions/0027); empty:
    # the snapshots go to the app's own blob store (local runs, Azurite).
    backup_blob_account_url: str = ""

    # Azure Web PubSub (POPSELL_REALTIME=webpubsub): the endpoint with the app's managed identity, or a
    # connection string for dev tools only (the resource disables local auth in production).
    webpubsub_endpoint: str = ""  # e.g. https://popsell-wps.webpubsub.azure.com
    webpubsub_connection_string: str = ""
    webpubsub_hub: str = "popsell"

    # Web Push (POPSELL_NOTIFIER=webpush): the VAPID private key (base64url, raw 32 bytes or DER; a Key Vault
    # reference in production), the subject push services may contact (mailto: or https:), TTL in seconds.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:ops@popsell.com"
    webpush_ttl_seconds: int = 86400

    mailjet_api_key: str = ""
    mailjet_api_secret: str = ""
    mailjet_url: str = "https://api.mailjet.com/v3.1/send"
    # Password of the Mailjet event callback (basic auth, user "mailjet"); empty: derived from the API secret.
    mailjet_webhook_secret: str = ""
    mail_from_email: str = "no-reply@popsell.local"
    mail_from_name: str = "Popsell"
    privacy_policy_url: str = "https://www.popsell.com/privacy"
    # Share links (docs/tracking-links.md): where `/t/{code}` sends an unknown code, and the App's
    # public base URL, under which a member's public profile is "<app>/<brand>/members/<member id>".
    link_fallback_url: str = "https://www.popsell.com"
    app_base_url: str = "https://app.popsell.com"
    # The redirect hands visit events to a write-behind buffer sent every this many milliseconds
    # (shared/tracking/visit_outbox.py); 0 sends each event during its request.
    redirect_flush_ms: int = Field(50, ge=0, le=5000)
    # Proxies in front of the app that append the client's address to X-Forwarded-For: the client is
    # that many entries from the right (functions/http_api/client_address.py). 0: the socket's peer,
    # the header ignored. Under the Functions host at least 1 applies (Azure's front end); behind Azure
    # Front Door as well, 2.
    trusted_proxy_hops: int = Field(0, ge=0, le=10)

    hash_master_key: str = LOCAL_HASH_MASTER_KEY
    # "kid:secret,kid:secret": the first signs, all verify, so keys rotate without logouts.
    token_signing_keys: str = LOCAL_TOKEN_KEYS
    token_issuer: str = "popsell"  # noqa: S105 - an issuer name, not a secret

    # Dev-only surfaces (settable clock, outbox listing); effective only when env=local and
    # the app is not running under the Functions host.
    dev_endpoints: bool = True
    demo_brand: bool = True

    @field_validator("cosmos_regions", mode="before")
    @classmethod
    def _split_regions(cls, value: object) -> object:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                return value  # JSON list, pydantic parses it
            return [part.strip() for part in stripped.split(",") if part.strip()]
        return value

    @field_validator("cosmos_regions")
    @classmethod
    def _only_eu_regions(cls, regions: list[str]) -> list[str]:
        outside = [region for region in regions if region not in EU_REGIONS]
        if outside:
            raise ValueError(
                f"Cosmos DB regions must be inside the EU; refused: {', '.join(outside)}. "
                f"Allowed: {', '.join(sorted(EU_REGIONS))}"
            )
        if not regions:
            raise ValueError("at least one EU Cosmos DB region is required")
        return regions

    @model_validator(mode="after")
    def _no_insecure_defaults_outside_local(self) -> Settings:
        if self.env == "production":
            insecure = [
                name
                for name, value, local in (
                    ("POPSELL_HASH_MASTER_KEY", self.hash_master_key, LOCAL_HASH_MASTER_KEY),
                    ("POPSELL_TOKEN_SIGNING_KEYS", self.token_signing_keys, LOCAL_TOKEN_KEYS),
                    ("POPSELL_MAILJET_WEBHOOK_SECRET", self.mailjet_webhook_secret, LOCAL_WEBHOOK_SECRET),
                )
                if value == local
            ]
            if insecure:
                raise ValueError(f"production settings still use local-only secrets: {', '.join(insecure)}")
            # An unresolved Key Vault reference arrives as its literal text: never use it as a secret.
            unresolved = [
                name
                for name, value in (
                    ("POPSELL_HASH_MASTER_KEY", self.hash_master_key),
                    ("POPSELL_TOKEN_SIGNING_KEYS", self.token_signing_keys),
                    ("POPSELL_MAILJET_API_KEY", self.mailjet_api_key),
                    ("POPSELL_MAILJET_API_SECRET", self.mailjet_api_secret),
                    ("POPSELL_VAPID_PRIVATE_KEY", self.vapid_private_key),
                )
                if value.startswith("@Microsoft.KeyVault(")
            ]
            if unresolved:
                names = ", ".join(unresolved)
                raise ValueError(f"Key Vault references not resolved (check the app's identity): {names}")
            if self.store == "sqlite" or self.bus == "sqlite":
                raise ValueError("production runs on Cosmos DB and Service Bus, not the embedded default")
        return self

    @property
    def signing_keys(self) -> list[tuple[str, str]]:
        """(kid, secret) pairs, the signing key first."""
        pairs = []
        for entry in self.token_signing_keys.split(","):
            kid, _, secret = entry.strip().partition(":")
            if kid and secret:
                pairs.append((kid, secret))
        return pairs

    @property
    def dev_mode(self) -> bool:
        """Local dev mode: the only mode that may mount dev-only surfaces."""
        return self.env == "local" and self.dev_endpoints


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once per worker)."""
    return Settings()

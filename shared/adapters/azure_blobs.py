"""The production blob store: Azure Blob Storage (Azurite in tests), SAS links for reads."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import quote

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    UserDelegationKey,
    generate_blob_sas,
)

from shared.clock import Clock, parse_instant
from shared.config import Settings
from shared.errors import TransientError
from shared.ports.blobs import BLOB_CONTAINERS, BlobInfo, BlobNotFound, BlobStore

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Blob Storage caps a user delegation key at 7 days; a day is plenty and limits a leaked key.
_DELEGATION_KEY_LIFETIME = timedelta(days=1)
_DELEGATION_KEY_MAX = timedelta(days=7)
# Backdate the delegation key's start so a few minutes of clock skew never makes a fresh link invalid.
_CLOCK_SKEW = timedelta(minutes=5)


class AzureBlobStore(BlobStore):
    """Blobs in an Azure Storage account: account key from a connection string, else managed identity."""

    def __init__(self, settings: Settings, *, clock: Clock) -> None:
        self._clock = clock
        # Short timeouts: a blob call sits inside an HTTP request or a queue handler.
        options = {"connection_timeout": 10, "read_timeout": 60, "retry_total": 3}
        if settings.blob_connection_string:
            self._service = BlobServiceClient.from_connection_string(settings.blob_connection_string, **options)
        elif settings.blob_account_url:
            from azure.identity import DefaultAzureCredential

            self._service = BlobServiceClient(settings.blob_account_url, credential=DefaultAzureCredential(), **options)
        else:
            raise ValueError("POPSELL_BLOB_ACCOUNT_URL or POPSELL_BLOB_CONNECTION_STRING is required for blobs=azure")
        self._account_key: str | None = getattr(self._service.credential, "account_key", None)
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_key_expiry: datetime | None = None
        self._lock = threading.Lock()

    def _blob(self, container: str, name: str):
        return self._service.get_blob_client(container, name)

    def ensure_containers(self, containers: tuple[str, ...] = BLOB_CONTAINERS) -> None:
        """Create the product's containers when missing (private: reads go through SAS links)."""
        for container in containers:
            try:
                self._service.create_container(container)
            except ResourceExistsError:
                pass

    def put(self, container: str, name: str, data: bytes, *, content_type: str) -> BlobInfo:
        """Write (or overwrite) a blob."""
        content_type = content_type or DEFAULT_CONTENT_TYPE
        result = self._blob(container, name).upload_blob(
            data, overwrite=True, content_settings=ContentSettings(content_type=content_type)
        )
        return BlobInfo(name=name, size=len(data), content_type=content_type, last_modified=result["last_modified"])

    def create(self, container: str, name: str, data: bytes, *, content_type: str) -> bool:
        """Write a blob only if none has this name (If-None-Match: *): False when one exists."""
        settings = ContentSettings(content_type=content_type or DEFAULT_CONTENT_TYPE)
        try:
            self._blob(container, name).upload_blob(data, overwrite=False, content_settings=settings)
        except ResourceExistsError:
            return False
        return True

    def get(self, container: str, name: str) -> bytes:
        """Read a blob; raises BlobNotFound."""
        try:
            return self._blob(container, name).download_blob().readall()
        except ResourceNotFoundError:
            raise BlobNotFound() from None

    def info(self, container: str, name: str) -> BlobInfo:
        """Size, type and date of a blob; raises BlobNotFound."""
        try:
            props = self._blob(container, name).get_blob_properties()
        except ResourceNotFoundError:
            raise BlobNotFound() from None
        return self._to_info(props)

    def delete(self, container: str, name: str) -> bool:
        """Delete a blob with its snapshots; False when there was none."""
        try:
            self._blob(container, name).delete_blob(delete_snapshots="include")
        except ResourceNotFoundError:
            return False
        return True

    def list(self, container: str, *, prefix: str = "") -> list[BlobInfo]:
        """Blobs whose name starts with `prefix`, in name order."""
        client = self._service.get_container_client(container)
        try:
            return [self._to_info(props) for props in client.list_blobs(name_starts_with=prefix or None)]
        except ResourceNotFoundError:
            return []

    def signed_url(self, container: str, name: str, *, expires_in: timedelta) -> str:
        """A read-only SAS link to one blob: account-key SAS locally, user delegation SAS in production."""
        # No SAS start time: the link is valid at once and clock skew cannot make it "not yet valid".
        now = self._clock.now()
        expiry = now + expires_in
        credentials: dict = {}
        if self._account_key:
            credentials["account_key"] = self._account_key
        else:
            credentials["user_delegation_key"] = self._user_delegation_key(now, expiry)
        token = generate_blob_sas(
            account_name=self._service.account_name,
            container_name=container,
            blob_name=name,
            permission=BlobSasPermissions(read=True),
            expiry=expiry,
            **credentials,
        )
        base = self._service.url.rstrip("/")
        return f"{base}/{container}/{quote(name, safe='/')}?{token}"

    def ping(self) -> None:
        """Raise if the storage account (and its UGC container) cannot be reached."""
        try:
            self._service.get_container_client(BLOB_CONTAINERS[0]).get_container_properties()
        except AzureError as exc:
            raise TransientError("blob storage is unreachable") from exc

    def _user_delegation_key(self, now: datetime, sas_expiry: datetime) -> UserDelegationKey:
        """A cached user delegation key valid past `sas_expiry`; a new one only when it would not be."""
        with self._lock:
            cached, cached_expiry = self._delegation_key, self._delegation_key_expiry
            if cached is None or cached_expiry is None or cached_expiry < sas_expiry:
                key_expiry = min(max(now + _DELEGATION_KEY_LIFETIME, sas_expiry), now + _DELEGATION_KEY_MAX)
                if key_expiry < sas_expiry:
                    raise ValueError("a signed URL cannot outlive a user delegation key (7 days)")
                key = self._service.get_user_delegation_key(now - _CLOCK_SKEW, key_expiry)
                self._delegation_key = key
                self._delegation_key_expiry = parse_instant(key.signed_expiry) if key.signed_expiry else key_expiry
                return key
            return cached

    @staticmethod
    def _to_info(props) -> BlobInfo:
        settings = props.content_settings
        return BlobInfo(
            name=props.name,
            size=props.size,
            content_type=(settings.content_type if settings else None) or DEFAULT_CONTENT_TYPE,
            last_modified=props.last_modified,
        )

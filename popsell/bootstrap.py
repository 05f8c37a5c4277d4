"""The one composition root: builds the adapters once per worker, by settings.

It sits above every feature (shared/) and below the entry points (functions/, function_app.py,
popsell/cli): HTTP dependencies, queue and timer functions, the CLI and the local runner take the
container from `get_container()` and pass it down; nothing in shared/ asks for it (features name
the `shared.ports.platform.Platform` protocol this class implements). Adapters, and the Azure SDKs
with them, are imported only when their adapter is chosen, which keeps the cold start of the
embedded default small. popsell.registry lists what the entry points run (timers, queue handlers).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from shared.clock import Clock, SettableClock
from shared.config import Settings, get_settings
from shared.events.dispatcher import Dispatcher
from shared.gdpr.journal import Journal
from shared.identity.tokens import TokenService
from shared.ports.blobs import BACKUP_CONTAINERS, BlobStore
from shared.ports.bus import MessageBus
from shared.ports.mailer import Mailer
from shared.ports.notifier import Notifier
from shared.ports.realtime import Realtime
from shared.ports.store import DocumentStore
from shared.privacy.hashing import BrandHasher
from shared.privacy.keys import derive_key


@dataclass
class Container:
    """The adapters and services of one process."""

    settings: Settings
    clock: Clock = field(default_factory=Clock)

    @property
    def data_dir(self) -> Path:
        path = Path(self.settings.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cached_property
    def store(self) -> DocumentStore:
        if self.settings.store == "cosmos":
            from shared.adapters.cosmos_store import CosmosDocumentStore

            store: DocumentStore = CosmosDocumentStore(self.settings)
        else:
            from shared.adapters.sqlite_store import SqliteDocumentStore

            store = SqliteDocumentStore(self.data_dir / "store.sqlite3", clock=self.clock)
        # In production the containers come from infra/ (the app's identity has data-plane roles only).
        if self.settings.env != "production":
            store.ensure_schema()
        return store

    @cached_property
    def bus(self) -> MessageBus:
        if self.settings.bus == "servicebus":
            from shared.adapters.servicebus_bus import ServiceBusMessageBus

            return ServiceBusMessageBus(self.settings, clock=self.clock)
        from shared.adapters.sqlite_bus import SqliteMessageBus

        return SqliteMessageBus(
            self.data_dir / "queue.sqlite3", clock=self.clock, max_delivery_count=self.settings.max_delivery_count
        )

    @cached_property
    def blobs(self) -> BlobStore:
        if self.settings.blobs == "azure":
            from shared.adapters.azure_blobs import AzureBlobStore

            blobs = AzureBlobStore(self.settings, clock=self.clock)
            blobs.ensure_containers()
            return blobs
        from shared.adapters.folder_blobs import FolderBlobStore

        return FolderBlobStore(
            self.data_dir / "blobs",
            clock=self.clock,
            base_url=self.settings.public_base_url,
            # Its own key, derived: the master key itself never signs anything handed out.
            signing_key=derive_key(self.settings.hash_master_key, "blob-links").hex(),
        )

    @cached_property
    def backup_blobs(self) -> BlobStore:
        """Where the store's snapshots go (shared/backups): the backup storage account in production."""
        if self.settings.blobs != "azure":
            return self.blobs  # the folder store: a container is a folder, made on first write
        from shared.adapters.azure_blobs import AzureBlobStore

        settings = self.settings
        if settings.backup_blob_account_url:
            settings = settings.model_copy(
                update={"blob_account_url": settings.backup_blob_account_url, "blob_connection_string": ""})
        blobs = AzureBlobStore(settings, clock=self.clock)
        blobs.ensure_containers(tuple(BACKUP_CONTAINERS))
        return blobs

    @cached_property
    def mailer(self) -> Mailer:
        if self.settings.mailer == "mailjet":
            from shared.adapters.mailjet_mailer import MailjetMailer

            return MailjetMailer(self.settings)
        from shared.adapters.outbox_mailer import OutboxMailer

        return OutboxMailer(self.data_dir / "outbox", clock=self.clock)

    @cached_property
    def notifier(self) -> Notifier:
        """Member push notifications: Web Push (VAPID), or a disk outbox (docs/notifications.md)."""
        if self.settings.notifier == "webpush":
            from shared.adapters.webpush_notifier import WebPushNotifier

            return WebPushNotifier(self.settings)
        if self.settings.env == "production":
            # The outbox is a folder of this worker: no device would ever see a push.
            raise ValueError("production pushes through Web Push: set POPSELL_NOTIFIER=webpush")
        from shared.adapters.outbox_notifier import OutboxNotifier

        return OutboxNotifier(self.data_dir / "push-outbox", clock=self.clock)

    @cached_property
    def realtime(self) -> Realtime:
        """Realtime pushes: Azure Web PubSub, or the WebSocket hub of this process (local runs, tests)."""
        if self.settings.realtime == "webpubsub":
            from shared.adapters.webpubsub_realtime import WebPubSubRealtime

            return WebPubSubRealtime(self.settings, clock=self.clock)
        if self.settings.env == "production":
            # The hub lives in one process: under the Functions host no client could reach it.
            raise ValueError("production pushes through Azure Web PubSub: set POPSELL_REALTIME=webpubsub")
        from shared.adapters.local_realtime import LocalRealtimeHub

        return LocalRealtimeHub(
            signing_key=derive_key(self.settings.hash_master_key, "realtime-local-tokens"),
            clock=self.clock,
            base_url=self.settings.public_base_url,
        )

    @cached_property
    def tokens(self) -> TokenService:
        return TokenService(self.settings.signing_keys, issuer=self.settings.token_issuer)

    @cached_property
    def events(self) -> Dispatcher:
        """The domain-event dispatcher, with every handler popsell.event_wiring subscribes."""
        # Imported on first use, like the adapters: the handlers bring the CRM, sales and catalog with
        # them, which the redirect's cold start (the edge imports this module) never needs.
        from popsell.event_wiring import subscriptions

        return Dispatcher(self, subscriptions())

    def hasher(self, brand_id: str) -> BrandHasher:
        """Keyed hashing with this brand's key."""
        return BrandHasher(self.settings.hash_master_key, brand_id)

    def journal(self, brand_id: str) -> Journal:
        """This brand's erasure journal, in the blob store (a database restore cannot take it back)."""
        return Journal(self.blobs, brand_id, self.hasher(brand_id))

    def close(self) -> None:
        """Release the adapters that were built."""
        for name in ("store", "bus", "realtime"):
            if name in self.__dict__:
                self.__dict__[name].close()


_lock = threading.Lock()
_container: Container | None = None


def build_container(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    """A new container; local dev mode gets a settable, running clock (moved by the dev endpoint)."""
    settings = settings or get_settings()
    from popsell.event_wiring import register_lookups

    register_lookups()
    if clock is None:
        clock = SettableClock(running=True) if settings.dev_mode else Clock()
    return Container(settings=settings, clock=clock)


def get_container() -> Container:
    """The process-wide container, built on first use."""
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = build_container()
    return _container


def set_container(container: Container | None) -> None:
    """Install a container (tests, the local runner, the CLI with --now)."""
    global _container
    with _lock:
        if _container is not None and container is not _container:
            _container.close()
        _container = container

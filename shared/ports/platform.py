"""What a service may ask of the process it runs in: settings, clock, adapters, per-brand keys.

The composition root (popsell.bootstrap.Container) is the one implementation: it builds the
adapters and hands itself to the entry points, which pass it down. Code under shared/ names this
protocol, never the root, so the features sit below the root that assembles them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.clock import Clock
from shared.config import Settings
from shared.ports.blobs import BlobStore
from shared.ports.bus import MessageBus
from shared.ports.mailer import Mailer
from shared.ports.notifier import Notifier
from shared.ports.realtime import Realtime
from shared.ports.store import DocumentStore
from shared.privacy.hashing import BrandHasher

if TYPE_CHECKING:  # types only: the ports import no feature at run time
    from shared.events.model import Publisher
    from shared.gdpr.journal import Journal
    from shared.identity.tokens import TokenService


class Platform(Protocol):
    """The process's settings, clock and adapters (built once per worker by the composition root)."""

    settings: Settings
    clock: Clock

    @property
    def data_dir(self) -> Path: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def bus(self) -> MessageBus: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def backup_blobs(self) -> BlobStore: ...

    @property
    def mailer(self) -> Mailer: ...

    @property
    def notifier(self) -> Notifier: ...

    @property
    def realtime(self) -> Realtime: ...

    @property
    def tokens(self) -> TokenService: ...

    @property
    def events(self) -> Publisher:
        """The dispatcher of domain events, with the handlers the composition root subscribed."""
        ...

    def hasher(self, brand_id: str) -> BrandHasher:
        """Keyed hashing with this brand's key."""
        ...

    def journal(self, brand_id: str) -> Journal:
        """This brand's erasure journal."""
        ...

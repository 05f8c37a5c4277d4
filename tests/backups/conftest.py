"""The backups' tests: the seeded world of tests/http (a store holding a bit of everything), and the store's state."""

from __future__ import annotations

from datetime import datetime

from shared.ports.store import DocumentStore
from shared.store_schema import CONTAINERS
from tests.http.conftest import seeded, world_template  # noqa: F401 - fixtures shared with tests/http


def store_state(store: DocumentStore, alive_at: datetime | None = None) -> dict[str, dict[tuple, tuple]]:
    """Every document of every container by (brand, pk, id), with when it expires (to the second).

    `ttl` is left out of the comparison: a restored document keeps the time it had left, so its ttl
    counts from the restore while its expiry stays the same instant. With `alive_at`, documents that
    have expired by then are left out, as the app no longer sees them.
    """
    return {
        name: {
            (stored.doc["brandId"], stored.doc.get("pk"), stored.doc["id"]): (
                {key: value for key, value in stored.doc.items() if key != "ttl"},
                None if stored.expires_at is None else round(stored.expires_at),
            )
            for stored in store.export_documents(name)
            if alive_at is None or stored.expires_at is None or stored.expires_at > alive_at.timestamp()
        }
        for name in CONTAINERS
    }

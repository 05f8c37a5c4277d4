"""The snapshots through the Azure blob adapter (Azurite): written, listed, read back and restored."""

from __future__ import annotations

import pytest

from popsell.bootstrap import Container
from shared.backups import restore, snapshots
from shared.backups.jobs import JOBS
from tests.backups.conftest import store_state

pytestmark = pytest.mark.emulator


@pytest.fixture
def azure_container(azurite_settings, tmp_path, clock) -> Container:
    """The embedded store with its snapshots in Blob Storage (Azurite)."""
    settings = azurite_settings.model_copy(update={"data_dir": tmp_path / "data", "demo_brand": False})
    built = Container(settings=settings, clock=clock)
    yield built
    built.close()


def test_a_snapshot_in_blob_storage_restores_the_store(azure_container, monkeypatch):
    monkeypatch.setattr(snapshots, "PART_DOCUMENTS", 2)  # several parts, listed and read back
    store = azure_container.store.for_brand("acme")
    for n in range(3):
        store.create("members", {"id": f"m{n}", "role": 1, "firstName": "Zoé"})
    store.create("tracking_counters", {"id": "k1", "pk": "acme|2030-01", "clicks": 1})
    store.create("throttles", {"id": "t1", "count": 1, "ttl": 3600})
    before = store_state(azure_container.store)
    reports = [job.run(azure_container, False) for job in JOBS]

    store.delete("members", "m1")
    store.create("members", {"id": "m9", "role": 2})
    snapshot = snapshots.find(blobs=azure_container.backup_blobs, reference="monthly/2030-01")
    restore.restore(store=azure_container.store, blobs=azure_container.backup_blobs, snapshot=snapshot,
                    now=azure_container.clock.now())

    assert [report["taken"] for report in reports] == [True, True]
    assert store_state(azure_container.store) == before
    assert [s.id for s in snapshots.taken(blobs=azure_container.backup_blobs,
                                          kind=snapshots.HOURLY)] == [reports[0]["snapshot"]]
    assert {info.name.split("/")[0] for info in azure_container.backup_blobs.list("backups-monthly")} == {
        "manifests", "monthly"}

"""The hourly and monthly snapshots: every document of every container, once per period, whole or not at all."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from shared.adapters.folder_blobs import FolderBlobStore
from shared.backups import snapshots
from shared.backups.jobs import JOBS
from shared.scheduling import LocalSchedule
from shared.store_schema import CONTAINERS
from tests.races import in_parallel

JOB = {job.name: job for job in JOBS}


def _run(container, name: str) -> dict:
    return JOB[name].run(container, False)


def _seed(container, brand: str = "acme") -> None:
    store = container.store.for_brand(brand)
    store.create("members", {"id": "m1", "role": 3, "firstName": "Ada", "status": "active"})
    store.create("contacts", {"id": "c1", "memberId": "m1", "emailHash": "h1"})
    store.create("tracking_counters", {"id": "k1", "pk": f"{brand}|2030-01", "clicks": 4})
    store.create("throttles", {"id": "t1", "count": 1, "ttl": 3600})


def _snapshot_documents(container, snapshot) -> dict[str, list[dict]]:
    blobs = container.backup_blobs
    manifest = snapshots.read_manifest(blobs=blobs, snapshot=snapshot)
    return {name: [stored.doc for stored in snapshots.documents(blobs=blobs, snapshot=snapshot, manifest=manifest,
                                                                container=name)]
            for name in CONTAINERS}


def test_the_hourly_snapshot_holds_every_document_of_every_container(container):
    _seed(container)
    container.store.for_brand("globex").create("members", {"id": "m1", "role": 1})

    report = _run(container, "backup_hourly")

    assert report["taken"] is True and report["period"] == "2030-01-01T09" and report["documents"] == 5
    held = _snapshot_documents(container, snapshots.find(blobs=container.backup_blobs,
                                                         reference="hourly/2030-01-01T09"))
    assert sorted((doc["brandId"], doc["firstName"] if "firstName" in doc else None) for doc in held["members"]) == [
        ("acme", "Ada"), ("globex", None)]
    assert held["tracking_counters"] == [{"id": "k1", "pk": "acme|2030-01", "clicks": 4, "brandId": "acme"}]
    assert held["throttles"][0]["ttl"] == 3600


def test_one_hourly_snapshot_per_hour_whatever_the_runs(container, clock):
    _seed(container)
    first = _run(container, "backup_hourly")
    clock.advance(timedelta(minutes=40))
    again = _run(container, "backup_hourly")
    clock.advance(timedelta(minutes=30))  # 10:10, the next hour
    next_hour = _run(container, "backup_hourly")

    assert again == {"kind": "hourly", "period": "2030-01-01T09", "taken": False, "snapshot": first["snapshot"]}
    assert next_hour["taken"] is True and next_hour["period"] == "2030-01-01T10"
    assert [s.id for s in snapshots.taken(blobs=container.backup_blobs, kind=snapshots.HOURLY)] == [
        first["snapshot"], next_hour["snapshot"]]


def test_the_month_gets_one_snapshot_from_its_first_run_on(container, clock):
    _seed(container)
    taken = []
    for day in (0, 1, 12, 30):  # 1, 2, 13 and 31 January
        clock.set(clock.now().replace(day=1) + timedelta(days=day))
        taken.append(_run(container, "backup_monthly"))
    clock.set(clock.now().replace(month=2, day=1))
    february = _run(container, "backup_monthly")

    assert [report["taken"] for report in taken] == [True, False, False, False]
    assert {report["snapshot"] for report in taken} == {taken[0]["snapshot"]}
    assert february["taken"] is True and february["period"] == "2030-02"
    months = snapshots.taken(blobs=container.backup_blobs, kind=snapshots.MONTHLY)
    assert [s.period for s in months] == ["2030-01", "2030-02"]
    assert {s.kind.container for s in months} == {"backups-monthly"}


def test_the_local_schedule_takes_an_hourly_snapshot_every_hour(container, clock):
    schedule = LocalSchedule({name: job for name, job in JOB.items()}, clock.now())
    periods = []
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        for job in schedule.due(clock.now()):
            job.run(container, False)
        periods = [s.period for s in snapshots.taken(blobs=container.backup_blobs, kind=snapshots.HOURLY)]
    assert periods == ["2030-01-01T10", "2030-01-01T11", "2030-01-01T12"]
    assert [s.period for s in snapshots.taken(blobs=container.backup_blobs, kind=snapshots.MONTHLY)] == ["2030-01"]


def test_an_expired_document_is_not_backed_up(container, clock):
    store = container.store.for_brand("acme")
    store.create("throttles", {"id": "gone", "count": 1, "ttl": 60})
    store.create("throttles", {"id": "kept", "count": 1, "ttl": 7200})
    clock.advance(timedelta(minutes=5))  # the first ran out, the store has not purged it yet

    report = _run(container, "backup_hourly")

    held = _snapshot_documents(container, snapshots.find(blobs=container.backup_blobs, reference=report["snapshot"]))
    assert [doc["id"] for doc in held["throttles"]] == ["kept"]


def test_large_containers_are_split_into_parts(container, monkeypatch):
    monkeypatch.setattr(snapshots, "PART_DOCUMENTS", 2)
    store = container.store.for_brand("acme")
    for n in range(5):
        store.create("members", {"id": f"m{n}", "role": 1})

    report = _run(container, "backup_hourly")

    snapshot = snapshots.find(blobs=container.backup_blobs, reference=report["snapshot"])
    manifest = snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)
    assert len(manifest["containers"]["members"]["parts"]) == 3
    assert sorted(doc["id"] for doc in _snapshot_documents(container, snapshot)["members"]) == [
        f"m{n}" for n in range(5)]


def test_the_snapshot_files_are_gzipped_json_lines_and_the_log_names_no_one(container, caplog):
    _seed(container)
    with caplog.at_level("INFO"):
        report = _run(container, "backup_hourly")
    snapshot = snapshots.find(blobs=container.backup_blobs, reference=report["snapshot"])
    manifest = snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)
    part = manifest["containers"]["members"]["parts"][0]
    lines = gzip.decompress(container.backup_blobs.get("backups-hourly", part)).splitlines()
    assert json.loads(lines[0])["doc"]["firstName"] == "Ada"
    assert manifest["takenAt"] == manifest["asOf"] == "2030-01-01T09:00:00Z"
    assert "Ada" not in caplog.text and snapshot.id in caplog.text


def test_a_run_that_dies_half_way_leaves_no_snapshot_and_the_next_run_writes_a_whole_one(container, monkeypatch):
    _seed(container)
    real_put = FolderBlobStore.put
    writes = []

    def dying_put(self, blob_container, name, data, *, content_type):
        writes.append(name)
        if len(writes) == 2:
            raise OSError("the worker died")
        return real_put(self, blob_container, name, data, content_type=content_type)

    monkeypatch.setattr(FolderBlobStore, "put", dying_put)
    with pytest.raises(OSError):
        _run(container, "backup_hourly")
    assert snapshots.taken(blobs=container.backup_blobs, kind=snapshots.HOURLY) == []

    report = _run(container, "backup_hourly")

    assert report["taken"] is True and report["documents"] == 4
    held = _snapshot_documents(container, snapshots.find(blobs=container.backup_blobs, reference=report["snapshot"]))
    assert sum(len(docs) for docs in held.values()) == 4


def test_two_runs_at_once_leave_whole_snapshots_and_the_period_names_the_first(container):
    _seed(container)

    reports = in_parallel(2, lambda: _run(container, "backup_hourly"))

    finished = snapshots.taken(blobs=container.backup_blobs, kind=snapshots.HOURLY, period="2030-01-01T09")
    assert 1 <= len(finished) <= 2 and all(report["snapshot"] in {s.id for s in finished} for report in reports)
    for snapshot in finished:
        assert sum(len(docs) for docs in _snapshot_documents(container, snapshot).values()) == 4
    assert snapshots.find(blobs=container.backup_blobs, reference="hourly/2030-01-01T09") == finished[0]


def test_a_dry_run_writes_nothing(container):
    _seed(container)
    assert JOB["backup_hourly"].run(container, True) == {
        "kind": "hourly", "period": "2030-01-01T09", "taken": False, "dryRun": True}
    assert snapshots.taken(blobs=container.backup_blobs, kind=snapshots.HOURLY) == []


@pytest.mark.parametrize("reference", ["daily/2030-01-01", "hourly/2030-01-01", "hourly", "hourly/2030-01-01T09/x/y"])
def test_a_snapshot_reference_that_names_nothing_valid_is_refused(container, reference):
    from shared.errors import InvalidInput

    with pytest.raises(InvalidInput):
        snapshots.find(blobs=container.backup_blobs, reference=reference)


def test_an_unknown_snapshot_is_not_found(container):
    from shared.errors import NotFound

    with pytest.raises(NotFound):
        snapshots.find(blobs=container.backup_blobs, reference="hourly/2030-01-01T09")

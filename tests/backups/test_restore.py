"""Restoring a snapshot: the store holds what the snapshot holds; the journal and register keep what came after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from functions.http_api.app import create_app
from shared.backups import restore, snapshots
from shared.backups.jobs import JOBS
from shared.clock import parse_instant
from shared.errors import InvalidInput
from shared.gdpr import erasure, journal_replay
from shared.gdpr import register as gdpr_register
from shared.ports.store import PatchOp
from shared.store_schema import CONTAINERS
from tests.backups.conftest import store_state
from tests.http.world import member_id
from tests.races import CrashPoint, in_parallel

HOURLY = next(job for job in JOBS if job.name == "backup_hourly")
OWNER = member_id("acme", 0)


def _without_etag(doc: dict) -> dict:
    return {key: value for key, value in doc.items() if key != "_etag"}


def _take(container) -> snapshots.Snapshot:
    return snapshots.find(blobs=container.backup_blobs, reference=HOURLY.run(container, False)["snapshot"])


def _restore(container, snapshot, **options) -> dict:
    return restore.restore(store=container.store, blobs=container.backup_blobs, snapshot=snapshot,
                           now=container.clock.now(), **options)


def snapshot_time(container, snapshot):
    return parse_instant(snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)["takenAt"])


def _seen_by_the_brand(seeded, member: str) -> dict:
    """The member as the brand's Manager sees it."""
    with TestClient(create_app(seeded.container.settings)) as client:
        response = client.get(f"/api/v1/manager/brands/acme/members/{member}", headers=seeded.manager("acme", "admin"))
    assert response.status_code == 200, response.text
    return response.json()


def _change_everything(container) -> None:
    """What an hour of use (or a bad deployment) does: documents added, changed and deleted."""
    acme, globex = container.store.for_brand("acme"), container.store.for_brand("globex")
    acme.create("members", {"id": "m-new", "role": 3, "status": "active"})
    acme.patch("members", OWNER, [PatchOp("set", "firstName", "Changed")])
    for doc in globex.query_all("contacts"):
        globex.delete("contacts", doc["id"])
    acme.create("tracking_counters", {"id": "k-new", "pk": "acme|2031-01", "clicks": 9})
    acme.create("throttles", {"id": "t-new", "count": 1, "ttl": 3600})


def test_a_restored_store_is_the_snapshot_again_whatever_happened_since(seeded):
    container = seeded.container
    # One replay nonce per signed call the world made (its brand platforms' setup calls).
    nonces = sum(len(container.store.for_brand(brand).query_all("nonces")) for brand in ("acme", "globex"))
    assert nonces > 0
    snapshot = _take(container)
    container.clock.advance(timedelta(minutes=20))
    # What the app shows of the snapshot's documents now: some have expired in those 20 minutes.
    before, seen = store_state(container.store, alive_at=container.clock.now()), _seen_by_the_brand(seeded, OWNER)
    _change_everything(container)
    assert _seen_by_the_brand(seeded, OWNER)["firstName"] == "Changed"

    report = _restore(container, snapshot)

    assert store_state(container.store) == before
    assert _seen_by_the_brand(seeded, OWNER) == seen
    assert report["containers"]["members"] == {"restored": 16, "kept": 0, "expired": 0, "removed": 1}
    # The replay nonces of the world's signed calls last minutes: all ran out in those 20 minutes, so
    # none is written back, and the copies the embedded store had not purged yet go.
    assert report["containers"]["nonces"] == {"restored": 0, "kept": 0, "expired": nonces, "removed": nonces}
    assert report["replaySince"] == snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)["takenAt"]


def test_erasures_after_the_snapshot_come_back_until_the_journal_replay_erases_them_again(seeded):
    container = seeded.container
    acme = container.store.for_brand("acme")
    snapshot = _take(container)
    container.clock.advance(timedelta(minutes=10))
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id=OWNER,
                         events=container.events, now=container.clock.now(), rule="data_subject_request")
    entry = gdpr_register.record(store=acme, actor="system", action="erased", subject_hash="a" * 64, reason=None,
                                 now=container.clock.now())
    journalled = container.journal("acme").entries(since=snapshot_time(container, snapshot))
    assert _seen_by_the_brand(seeded, OWNER)["email"] is None

    report = _restore(container, snapshot)

    # The snapshot predates the erasure: the member is back in clear; the journal and register still hold it.
    assert _seen_by_the_brand(seeded, OWNER)["email"] == f"{OWNER}@example.com"
    assert container.journal("acme").entries(since=snapshot_time(container, snapshot)) == journalled
    assert acme.find(gdpr_register.CONTAINER, entry["id"]) is not None
    # The snapshot's entries are all kept, and the one made since stays (never removed).
    in_snapshot = len(list(container.store.export_documents(gdpr_register.CONTAINER))) - 1
    assert report["containers"]["gdpr_register"] == {"restored": 0, "kept": in_snapshot, "expired": 0, "removed": 0}

    replayed = journal_replay.replay(store=container.store, blobs=container.blobs, hasher_for=container.hasher,
                                     events=container.events, since=parse_instant(report["replaySince"]),
                                     now=container.clock.now())

    # The member, and the contacts that went with them (each journalled).
    assert [entry["subjectType"] for entry in journalled].count("member") == 1
    assert replayed["acme"]["erasedAgain"] == len(journalled) and replayed["acme"]["entries"] == len(journalled)
    assert _seen_by_the_brand(seeded, OWNER)["email"] is None


def test_the_journal_is_not_in_a_snapshot_and_a_restore_leaves_it_as_it_is(seeded):
    container = seeded.container
    acme = container.store.for_brand("acme")
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id=OWNER,
                         events=container.events, now=container.clock.now(), rule="data_subject_request")
    snapshot = _take(container)
    manifest = snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)
    since = parse_instant(manifest["takenAt"]) - timedelta(days=1)
    entries = container.journal("acme").entries(since=since)
    assert OWNER in {entry["subjectId"] for entry in entries}

    report = _restore(container, snapshot)

    assert "erasure_journal" not in report["containers"] and "erasure_journal" not in manifest["containers"]
    assert container.journal("acme").entries(since=since) == entries


def test_an_expiring_document_comes_back_with_the_time_it_had_left(container, clock):
    store = container.store.for_brand("acme")
    store.create("throttles", {"id": "long", "count": 1, "ttl": 3600})
    store.create("throttles", {"id": "short", "count": 1, "ttl": 600})
    expiry = {stored.doc["id"]: stored.expires_at for stored in container.store.export_documents("throttles")}
    snapshot = _take(container)
    clock.advance(timedelta(minutes=30))  # "short" ran out meanwhile
    store.delete("throttles", "long")

    report = _restore(container, snapshot)

    restored = {stored.doc["id"]: stored for stored in container.store.export_documents("throttles")}
    assert list(restored) == ["long"]
    assert restored["long"].expires_at == expiry["long"] and restored["long"].doc["ttl"] == 1800
    assert report["containers"]["throttles"]["expired"] == 1


def test_a_restore_that_stops_half_way_ends_the_same_when_run_again(seeded, monkeypatch):
    container = seeded.container
    before = store_state(container.store)
    snapshot = _take(container)
    _change_everything(container)
    crash = CrashPoint(monkeypatch, CONTAINERS)

    assert crash.during(40, lambda: _restore(container, snapshot)) is None and crash.fired
    assert store_state(container.store) != before
    _restore(container, snapshot)

    assert store_state(container.store) == before


def test_two_restores_at_once_end_in_the_snapshot(seeded):
    container = seeded.container
    before = store_state(container.store)
    snapshot = _take(container)
    _change_everything(container)

    in_parallel(2, lambda: _restore(container, snapshot))

    assert store_state(container.store) == before


def test_an_incomplete_snapshot_is_refused_before_anything_is_written(seeded):
    container = seeded.container
    snapshot = _take(container)
    manifest = snapshots.read_manifest(blobs=container.backup_blobs, snapshot=snapshot)
    container.backup_blobs.delete(snapshot.kind.container, manifest["containers"]["members"]["parts"][0])
    _change_everything(container)
    changed = store_state(container.store)

    with pytest.raises(InvalidInput, match="incomplete"):
        _restore(container, snapshot)
    assert store_state(container.store) == changed


def test_a_dry_run_counts_what_would_change_and_changes_nothing(seeded):
    container = seeded.container
    snapshot = _take(container)
    _change_everything(container)
    changed = store_state(container.store)

    report = _restore(container, snapshot, dry_run=True)

    assert store_state(container.store) == changed
    assert report["dryRun"] is True and report["containers"]["members"]["removed"] == 1
    assert report["containers"]["contacts"]["restored"] == 4

"""The erasure journal: a restored backup never brings back someone already erased."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.gdpr import erasure, journal, journal_replay
from shared.identity import repository
from shared.identity.models import ExternalUser, Member, Role, TermsAcceptance
from shared.ports.blobs import CONTAINER_UGC
from tests.conftest import T0


def make_brand(container, brand_id):
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate.model_validate({"id": brand_id, "name": brand_id.title()}))
    return container.store.for_brand(brand_id)


def add_member(container, store, member_id="m1") -> Member:
    photo = f"{store.brand_id}/members/{member_id}/photo-1"
    container.blobs.put(CONTAINER_UGC, photo, b"\xff\xd8\xff", content_type="image/jpeg")
    hasher = container.hasher(store.brand_id)
    member = Member(id=member_id, role=Role.AMBASSADOR, status="active", created_at=container.clock.now(),
                    first_name="Ana", last_name="Lima", email="ana@example.com",
                    email_hash=hasher("email", "ana@example.com"), photo_blob=photo)
    repository.save(store=store, container=repository.MEMBERS, model=member, etag=None)
    repository.claim_key(store=store, kind="email", hashed=member.email_hash, owner_id=member_id, owner_type="member")
    return member


def add_visitor(container, store, visitor_id="v1") -> ExternalUser:
    terms = TermsAcceptance(version="1", accepted_at=container.clock.now())
    visitor = ExternalUser(id=visitor_id, role=Role.TEMPORARY_ACCOUNT, created_at=container.clock.now(),
                           widget_policy=terms, service_terms=terms, first_name="Bea", email_tmp="bea@example.com")
    repository.save(store=store, container=repository.VISITORS, model=visitor, etag=None)
    return visitor


def counts(**changed):
    """A brand's replay counts: every count zero but those named."""
    return {**dict.fromkeys(journal.COUNTS, 0), **changed}


def replay(container, *, since=T0, dry_run=False):
    return journal_replay.replay(store=container.store, blobs=container.blobs, hasher_for=container.hasher,
                                 events=container.events, since=since, now=container.clock.now(), dry_run=dry_run)


@pytest.fixture
def acme(container):
    return make_brand(container, "acme")


def backup(store, container_name, subject_id):
    """What a backup holds: the document as it was (and its photo file, restored with the blobs)."""
    return {key: value for key, value in store.get(container_name, subject_id).items() if not key.startswith("_")}


def restore(container, store, container_name, doc):
    store.upsert(container_name, doc)
    if doc.get("photoBlob"):
        container.blobs.put(CONTAINER_UGC, doc["photoBlob"], b"\xff\xd8\xff", content_type="image/jpeg")


def test_a_restored_member_is_erased_again_and_a_second_replay_changes_nothing(container, acme):
    add_member(container, acme)
    saved = backup(acme, repository.MEMBERS, "m1")
    container.clock.advance(timedelta(hours=2))
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id="m1",
                         events=container.events, now=container.clock.now(), rule="member_unsubscribed")
    erased = backup(acme, repository.MEMBERS, "m1")

    restore(container, acme, repository.MEMBERS, saved)
    assert acme.get(repository.MEMBERS, "m1")["firstName"] == "Ana"
    container.clock.advance(timedelta(days=1))
    report = replay(container)
    assert report == {"acme": counts(entries=1, erasedAgain=1)}
    again = backup(acme, repository.MEMBERS, "m1")
    assert again["firstName"] is None and again["email"] is None and again["status"] == "erased"
    assert container.blobs.list(CONTAINER_UGC, prefix="acme/members/m1/") == []
    # Erased again as of the journalled time: the same document as the first erasure wrote.
    assert again == erased

    etag = acme.get(repository.MEMBERS, "m1")["_etag"]
    assert replay(container) == {"acme": counts(entries=1, alreadyErased=1)}
    assert acme.get(repository.MEMBERS, "m1")["_etag"] == etag
    assert len(container.journal("acme").entries(since=T0)) == 1


def test_a_restored_visitor_is_erased_again(container, acme):
    add_visitor(container, acme)
    saved = backup(acme, repository.VISITORS, "v1")
    erasure.erase_visitor(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), visitor_id="v1",
                          now=container.clock.now(), rule="visitor_inactive")
    restore(container, acme, repository.VISITORS, saved)
    assert replay(container)["acme"]["erasedAgain"] == 1
    assert "bea" not in json.dumps(acme.get(repository.VISITORS, "v1")).lower()


def test_replay_reads_only_entries_since_the_date_in_every_brand(container, acme):
    globex = make_brand(container, "globex")
    add_member(container, acme)
    add_member(container, globex, member_id="g1")
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id="m1",
                         events=container.events, now=container.clock.now(), rule="inactivity")
    container.clock.advance(timedelta(days=3))
    erasure.erase_member(store=globex, blobs=container.blobs, hasher=container.hasher("globex"), member_id="g1",
                         events=container.events, now=container.clock.now(), rule="inactivity")
    report = replay(container, since=T0 + timedelta(days=1))
    assert report["acme"]["entries"] == 0 and report["globex"]["entries"] == 1


def test_a_subject_missing_from_the_restored_data_is_counted(container, acme):
    add_member(container, acme)
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id="m1",
                         events=container.events, now=container.clock.now(), rule="inactivity")
    acme.delete(repository.MEMBERS, "m1")  # the backup predates the member
    assert replay(container)["acme"] == counts(entries=1, missing=1)


def test_a_dry_run_counts_and_changes_nothing(container, acme):
    add_member(container, acme)
    saved = backup(acme, repository.MEMBERS, "m1")
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id="m1",
                         events=container.events, now=container.clock.now(), rule="inactivity")
    restore(container, acme, repository.MEMBERS, saved)
    assert replay(container, dry_run=True)["acme"]["erasedAgain"] == 1
    assert acme.get(repository.MEMBERS, "m1")["firstName"] == "Ana"


def test_the_cli_replays(container, acme, monkeypatch, capsys):
    from popsell.bootstrap import build_container
    from popsell.cli import main as cli
    from shared.config import get_settings

    add_member(container, acme)
    saved = backup(acme, repository.MEMBERS, "m1")
    erasure.erase_member(store=acme, blobs=container.blobs, hasher=container.hasher("acme"), member_id="m1",
                         events=container.events, now=container.clock.now(), rule="inactivity")
    restore(container, acme, repository.MEMBERS, saved)

    monkeypatch.setenv("POPSELL_DATA_DIR", str(container.settings.data_dir))
    get_settings.cache_clear()
    try:
        assert cli.main(["--now", "2030-01-02T00:00:00Z", "journal", "replay", "--since", "2030-01-01T00:00:00Z",
                         "--dry-run"]) == 0
        dry = json.loads(capsys.readouterr().out)
        assert dry["dryRun"] is True and dry["brands"]["acme"]["erasedAgain"] == 1
        assert cli.main(["journal", "replay", "--since", "2030-01-01T00:00:00Z"]) == 0
        assert json.loads(capsys.readouterr().out)["brands"]["acme"]["erasedAgain"] == 1
        # The CLI closed the fixture's container when it installed its own: read through a fresh one.
        fresh = build_container(container.settings)
        assert fresh.store.for_brand("acme").get(repository.MEMBERS, "m1")["status"] == "erased"
        fresh.close()
        assert cli.main(["journal", "replay", "--since", "yesterday"]) == 2
        assert "since" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()

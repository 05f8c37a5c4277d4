"""The daily data-warehouse export: anonymous but for Members' names, one snapshot, no history."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest

from popsell import registry
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.identity import repository
from shared.identity.models import Address, ExternalUser, GeoPoint, Member, Role, TermsAcceptance
from shared.ports.blobs import CONTAINER_WAREHOUSE
from shared.scheduling import next_fire
from shared.warehouse import export as warehouse
from shared.warehouse import folders as warehouse_folders
from shared.warehouse.jobs import JOBS
from shared.warehouse.tables import DATASETS, MEMBER_COLUMNS, VISITOR_COLUMNS
from tests.races import in_parallel

BRAND, OTHER = "acme", "globex"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
NUMBER_RUN_RE = re.compile(r"\+?\d[\d .()/-]{6,}\d")
STREET = "12 rue des Lilas"
BIRTH_DATE = date(1990, 5, 17)
PHONE = "+33 6 12 34 56 78"


def _terms(container) -> TermsAcceptance:
    return TermsAcceptance(version="2030-01", accepted_at=container.clock.now())


def _make_brand(container, brand_id):
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate.model_validate({"id": brand_id, "name": brand_id.title()}))


def _member(container, brand_id, member_id, *, role=Role.AMBASSADOR, status="active", first="Jane", last="Doe",
            alias="JD", email="jane.doe@example.com", **extra) -> dict:
    """A member with every field of the guide's table filled, stored with legacy phone fields on top."""
    hasher = container.hasher(brand_id)
    now = container.clock.now()
    member = Member(
        id=member_id, role=role, status=status, created_at=now - timedelta(days=400),
        first_name=first, last_name=last, alias=alias, password_hash="$2b$12$" + "x" * 53,
        email=email, email_hash=hasher("email", email or f"{member_id}@example.com"), email_verified_at=now,
        customer_id="CUST-778899", customer_id_hash=hasher("customer_id", "CUST-778899"),
        social_ids={"google": "g-1122334455"}, social_id_hashes={"google": hasher("social_id", "g-1122334455")},
        address=Address(street=STREET, city="Paris", postal_code="75011", country="FR"),
        preferred_language="fr", birth_date=BIRTH_DATE, popsell_terms=_terms(container),
        self_presentation=f"Call me on {PHONE}", position="Store lead", home_shop_id="shop-9",
        location=GeoPoint(lat=48.85661, lon=2.35222), last_activity_at=now - timedelta(days=3),
        **extra,
    )
    doc = repository.to_document(member)
    # Fields no model declares (legacy imports, a later issue): the allow-list must keep them out too.
    doc.update(phone=PHONE, mobilePhone="06 98 76 54 32", homePhone="01.44.55.66.77")
    container.store.for_brand(brand_id).create(repository.MEMBERS, doc)
    return doc


def _visitor(container, brand_id, visitor_id, *, role=Role.CLIENT, service_terms=True) -> dict:
    hasher = container.hasher(brand_id)
    visitor = ExternalUser(
        id=visitor_id, role=role, created_at=container.clock.now() - timedelta(days=10),
        widget_policy=_terms(container), service_terms=_terms(container) if service_terms else None,
        first_name="Victor", email_tmp="victor@example.net", email_tmp_hash=hasher("email", "victor@example.net"),
        customer_id_hash=hasher("customer_id", "C-55"), last_interaction_at=container.clock.now(),
    )
    repository.save(store=container.store.for_brand(brand_id), container=repository.VISITORS, model=visitor, etag=None)
    return repository.to_document(visitor)


def _export(container, brand_ids=(BRAND,), dry_run=False):
    return warehouse.export_all(store=container.store, blobs=container.blobs, now=container.clock.now(),
                                brand_ids=list(brand_ids), hasher=container.hasher, dry_run=dry_run)


FILES = sorted(["manifest.json", *(dataset.file for dataset in DATASETS)])
EMPTY_TABLES = {dataset.name: 0 for dataset in DATASETS}


def _files(container, prefix="") -> dict[str, bytes]:
    blobs = container.blobs
    return {info.name: blobs.get(CONTAINER_WAREHOUSE, info.name)
            for info in blobs.list(CONTAINER_WAREHOUSE, prefix=prefix)}


def _folder(container, brand_id=BRAND) -> str:
    """The snapshot a loader reads (the folder of the newest manifest)."""
    folder = warehouse_folders.current_snapshot(blobs=container.blobs, brand_id=brand_id)
    assert folder is not None
    return folder


def _file(container, dataset, brand_id=BRAND) -> bytes:
    return container.blobs.get(CONTAINER_WAREHOUSE, f"{_folder(container, brand_id)}{dataset}")


def _rows(container, brand_id, dataset) -> list[dict]:
    return [json.loads(line) for line in _file(container, f"{dataset}.jsonl", brand_id).decode().splitlines()]


def _days(container, brand_id) -> set[str]:
    return {name.split("/")[1] for name in _files(container, f"{brand_id}/")}


@pytest.fixture
def brand(container):
    _make_brand(container, BRAND)
    return BRAND


def _hashed_and_secret_values(doc: dict) -> list[str]:
    values = [doc.get(key) for key in ("emailHash", "customerIdHash", "customerId", "passwordHash", "emailTmpHash")]
    values += list((doc.get("socialIdHashes") or {}).values()) + list((doc.get("socialIds") or {}).values())
    return [value for value in values if value]


def test_the_snapshot_holds_no_email_phone_street_birth_date_or_hash(container, brand):
    docs = [_member(container, BRAND, "m-1"), _member(container, BRAND, "m-2", role=Role.VENDOR, email="v@ex.fr"),
            _visitor(container, BRAND, "v-1"), _visitor(container, BRAND, "v-2", role=Role.TEMPORARY_ACCOUNT)]

    report = _export(container)

    assert report == {"dryRun": False, "brands": 1, "exported": 1, "failed": 0, **EMPTY_TABLES, "members": 2,
                      "visitors": 2, "filesDeleted": 0}
    files = _files(container, f"{BRAND}/")
    folder = _folder(container)
    assert folder.startswith(f"{BRAND}/2030-01-01/") and sorted(files) == [folder + name for name in FILES]
    text = b"".join(files.values()).decode()
    assert EMAIL_RE.findall(text) == []
    assert [run for run in NUMBER_RUN_RE.findall(text) if sum(ch.isdigit() for ch in run) >= 9] == []
    assert "rue des Lilas" not in text and "Lilas" not in text
    assert BIRTH_DATE.isoformat() not in text and "17/05" not in text
    assert "Store lead" not in text and "Call me" not in text
    assert "48.85661" not in text and "2.35222" not in text
    for doc in docs:
        for secret in _hashed_and_secret_values(doc):
            assert secret not in text


def test_member_rows_are_exactly_the_allow_list(container, brand):
    _member(container, BRAND, "m-1")

    _export(container)

    [row] = _rows(container, BRAND, "members")
    assert list(row) == [column.name for column in MEMBER_COLUMNS]
    assert row == {
        "id": "m-1", "brandId": BRAND, "role": 0, "status": "active", "createdAt": "2028-11-27",
        "lastActivityAt": "2029-12-29", "firstName": "Jane", "lastName": "Doe", "alias": "JD", "city": "Paris",
        "postalCode": "75011", "country": "FR", "lat": 48.9, "lon": 2.4, "homeShopId": "shop-9",
        "preferredLanguage": "fr", "birthYear": 1990, "popsellTermsAccepted": True, "optInNewsletters": True,
        "optInEventNotifications": True, "optInChallengeNotifications": True, "optInCommentNotifications": True,
        "hideEventsInLiveStream": False, "hideFromCommunity": False,
    }


def test_names_appear_only_for_members(container, brand):
    _member(container, BRAND, "m-1")
    _visitor(container, BRAND, "v-1")

    _export(container)

    [visitor] = _rows(container, BRAND, "visitors")
    assert list(visitor) == [column.name for column in VISITOR_COLUMNS]
    assert visitor == {"id": "v-1", "brandId": BRAND, "role": 7, "status": "active", "createdAt": "2029-12-22",
                       "lastInteractionAt": "2030-01-01", "serviceTermsAccepted": True, "mergedInto": None}
    assert b"Victor" not in _file(container, "visitors.jsonl")


# The guide: names are erased on deletion for role 0 (the general public), kept for roles 1-6 (under contract).
@pytest.mark.parametrize(
    ("role", "status", "names_exported"),
    [(Role.AMBASSADOR, "active", True), (Role.AMBASSADOR, "erased", False)]
    + [(role, "erased", True) for role in Role if role.under_contract],
)
def test_erased_members_appear_erased(container, brand, role, status, names_exported):
    # The document still holds names: the export applies the guide's rule itself (defence in depth).
    _member(container, BRAND, "m-1", role=role, status=status, email=None)

    _export(container)

    [row] = _rows(container, BRAND, "members")
    names = (row["firstName"], row["lastName"], row["alias"])
    assert names == (("Jane", "Doe", "JD") if names_exported else (None, None, None))
    assert (row["status"], row["city"], row["postalCode"], row["birthYear"]) == (status, "Paris", "75011", 1990)


def test_an_erased_document_exports_nulls_and_no_hash(container, brand):
    doc = _member(container, BRAND, "m-1", status="erased", first=None, last=None, alias=None, email=None,
                  birth_year=1990)
    store = container.store.for_brand(BRAND)
    stored = store.get(repository.MEMBERS, "m-1")
    # As the erasure leaves it: clear values gone, keyed hashes kept, city and postal code kept.
    stored.update(birthDate=None, address={"city": "Paris", "postalCode": "75011"}, customerId=None,
                  socialIds={}, location=None)
    store.replace(repository.MEMBERS, stored)

    _export(container)

    [row] = _rows(container, BRAND, "members")
    assert (row["firstName"], row["lastName"], row["alias"], row["lat"], row["country"]) == (None,) * 5
    assert (row["birthYear"], row["city"]) == (1990, "Paris")
    text = _file(container, "members.jsonl").decode()
    assert doc["emailHash"] not in text and doc["customerIdHash"] not in text


def test_the_manifest_gives_counts_and_schema_version(container, brand):
    for index in range(3):
        _member(container, BRAND, f"m-{index}")
    _visitor(container, BRAND, "v-1")

    _export(container)

    manifest = json.loads(_file(container, "manifest.json"))
    assert manifest["schemaVersion"] == warehouse.SCHEMA_VERSION
    assert (manifest["brandId"], manifest["date"]) == (BRAND, "2030-01-01")
    assert manifest["files"]["members.jsonl"]["rows"] == 3
    assert manifest["files"]["visitors.jsonl"]["rows"] == 1
    assert sorted([*manifest["files"], "manifest.json"]) == FILES


def test_members_are_read_page_by_page(container, brand, monkeypatch):
    monkeypatch.setattr(warehouse, "PAGE_SIZE", 2)
    for index in range(5):
        _member(container, BRAND, f"m-{index}")

    assert _export(container)["members"] == 5
    assert [row["id"] for row in _rows(container, BRAND, "members")] == [f"m-{index}" for index in range(5)]


def test_running_twice_the_same_day_writes_the_same_rows_and_keeps_one_snapshot(container, brand, clock):
    _member(container, BRAND, "m-1")
    _visitor(container, BRAND, "v-1")
    _export(container)
    first_folder, first = _folder(container), _files(container)

    clock.advance(timedelta(hours=2))
    _export(container)

    second_folder, second = _folder(container), _files(container)
    assert second_folder != first_folder and sorted(second) == [second_folder + name for name in FILES]
    for name in FILES:
        if name != "manifest.json":
            assert second[second_folder + name] == first[first_folder + name]


def test_the_next_day_snapshot_replaces_the_previous_one(container, brand, clock):
    _member(container, BRAND, "m-1")
    _export(container)
    store = container.store.for_brand(BRAND)
    doc = store.get(repository.MEMBERS, "m-1")
    doc.update(status="erased", firstName=None, lastName=None, alias=None)
    store.replace(repository.MEMBERS, doc)

    clock.advance(timedelta(days=1))
    report = _export(container)

    assert report["filesDeleted"] == len(FILES)
    folder = _folder(container)
    assert folder.startswith(f"{BRAND}/2030-01-02/") and sorted(_files(container)) == [folder + name for name in FILES]
    [row] = _rows(container, BRAND, "members")
    assert row["firstName"] is None and b"Jane" not in b"".join(_files(container).values())


def test_brands_are_exported_separately(container, brand):
    _make_brand(container, OTHER)
    _member(container, BRAND, "m-acme")
    _member(container, OTHER, "m-globex")

    _export(container, brand_ids=(BRAND, OTHER))

    assert [row["id"] for row in _rows(container, BRAND, "members")] == ["m-acme"]
    assert [row["id"] for row in _rows(container, OTHER, "members")] == ["m-globex"]


def test_a_failed_brand_keeps_yesterday_at_most_and_others_go_on(container, brand, clock, monkeypatch):
    _make_brand(container, OTHER)
    _member(container, BRAND, "m-acme")
    _member(container, OTHER, "m-globex")
    _export(container, brand_ids=(BRAND, OTHER))
    render = warehouse.render

    def broken_for_other(*, store, dataset, context):
        if store.brand_id == OTHER and dataset.name == "orders":  # some files of the run are written already
            raise RuntimeError("store unavailable")
        return render(store=store, dataset=dataset, context=context)

    monkeypatch.setattr(warehouse, "render", broken_for_other)
    clock.advance(timedelta(days=1))
    report = _export(container, brand_ids=(BRAND, OTHER))
    assert (report["exported"], report["failed"]) == (1, 1)
    assert _days(container, OTHER) == {"2030-01-01"} and len(_files(container, f"{OTHER}/")) == len(FILES)

    clock.advance(timedelta(days=1))
    _export(container, brand_ids=(BRAND, OTHER))
    assert _files(container, f"{OTHER}/") == {}
    assert _days(container, BRAND) == {"2030-01-03"}


def test_a_deleted_document_is_absent_from_the_next_snapshot(container, brand, clock):
    _member(container, BRAND, "m-1")
    _member(container, BRAND, "m-2")
    _export(container)
    container.store.for_brand(BRAND).delete(repository.MEMBERS, "m-2")

    clock.advance(timedelta(days=1))
    _export(container)

    assert [row["id"] for row in _rows(container, BRAND, "members")] == ["m-1"]


class Killed(BaseException):  # noqa: N818 - a process death, not an error: no `except Exception` sees it
    """Raised by the blob store in place of a write or a deletion, as if the process had died just before it."""


class BlobCrash:
    """Counts the blob store's writes and deletions; the `at`-th one raises Killed instead (0: never)."""

    def __init__(self, monkeypatch, blobs) -> None:
        self.at, self.steps = 0, 0
        for method in ("put", "delete"):
            monkeypatch.setattr(type(blobs), method, self._guarded(getattr(type(blobs), method)))

    def arm(self, at: int) -> None:
        self.at, self.steps = at, 0

    def _guarded(self, real):
        def step(blobs, *args, **kwargs):
            self.steps += 1
            if self.steps == self.at:
                raise Killed(f"killed before step {self.at} ({real.__name__})")
            return real(blobs, *args, **kwargs)

        return step


def _loaded(container) -> dict[str, bytes]:
    """What a loader reads: the tables of the newest manifest, each complete (its rows as the manifest says)."""
    folder = _folder(container)
    manifest = json.loads(container.blobs.get(CONTAINER_WAREHOUSE, folder + "manifest.json"))
    tables = {}
    for name, described in manifest["files"].items():
        data = container.blobs.get(CONTAINER_WAREHOUSE, folder + name)
        assert data.count(b"\n") == described["rows"], name
        tables[name] = data
    return tables


def _restore(container, files: dict[str, bytes]) -> None:
    for name in _files(container):
        container.blobs.delete(CONTAINER_WAREHOUSE, name)
    for name, data in files.items():
        container.blobs.put(CONTAINER_WAREHOUSE, name, data, content_type="application/octet-stream")


@pytest.mark.parametrize("later", [timedelta(days=1), timedelta(hours=2)], ids=["next day", "same day"])
def test_a_crash_at_any_step_leaves_one_complete_snapshot_to_load(container, brand, clock, monkeypatch, later):
    _member(container, BRAND, "m-1")
    _export(container)
    yesterday, yesterday_files = _loaded(container), _files(container)
    _member(container, BRAND, "m-2")  # the new snapshot differs from the previous one
    clock.advance(later)
    _export(container)
    today = _loaded(container)
    assert today != yesterday
    crash = BlobCrash(monkeypatch, container.blobs)
    writes = len(FILES)  # every table, then the manifest
    deletions = len(yesterday_files)

    for at in range(1, writes + deletions + 1):
        _restore(container, yesterday_files)
        crash.arm(at)
        with pytest.raises(Killed):
            _export(container)
        crash.arm(0)
        # Before the new manifest is written the loader reads yesterday's snapshot, after it today's: never a mix.
        assert _loaded(container) == (yesterday if at <= writes else today), at

        clock.advance(timedelta(minutes=1))
        _export(container)  # the next run cleans up whatever the crash left
        assert _loaded(container) == today
        assert {name.rsplit("/", 1)[0] for name in _files(container)} == {_folder(container)[:-1]}


def _export_into(container, folder, now):
    return warehouse.export_brand(store=container.store, blobs=container.blobs, brand_id=BRAND, now=now,
                                  hasher=container.hasher(BRAND), folder=folder)


def test_two_runs_at_once_leave_the_later_snapshot_alone_whichever_ends_first(container, brand, clock):
    _member(container, BRAND, "m-1")
    earlier, later = clock.now(), clock.now() + timedelta(seconds=30)
    first, second = warehouse_folders.new_folder(BRAND, earlier), warehouse_folders.new_folder(BRAND, later)

    # The later run is still writing when the earlier one ends: its folder is spared, then it prunes the earlier.
    container.blobs.put(CONTAINER_WAREHOUSE, f"{second}members.jsonl", b"", content_type="application/x-ndjson")
    _export_into(container, first, earlier)
    assert _folder(container) == first and {name.rsplit("/", 1)[0] + "/" for name in _files(container)} == {
        first, second}
    _export_into(container, second, later)
    assert {name.rsplit("/", 1)[0] + "/" for name in _files(container)} == {second}

    # The later run ends first: the earlier one, ending after it, finds a newer snapshot and drops its own.
    third, fourth = (warehouse_folders.new_folder(BRAND, clock.now() + timedelta(minutes=n)) for n in (1, 2))
    container.blobs.put(CONTAINER_WAREHOUSE, f"{third}members.jsonl", b"", content_type="application/x-ndjson")
    _export_into(container, fourth, clock.now() + timedelta(minutes=2))
    _export_into(container, third, clock.now() + timedelta(minutes=1))
    assert _folder(container) == fourth and {name.rsplit("/", 1)[0] + "/" for name in _files(container)} == {fourth}


def test_parallel_timer_runs_leave_one_complete_snapshot(container, brand, clock):
    _member(container, BRAND, "m-1")
    _visitor(container, BRAND, "v-1")
    _export(container)
    expected = _loaded(container)

    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        reports = in_parallel(2, lambda: _export(container))

        assert [report["failed"] for report in reports] == [0, 0]
        assert _loaded(container) == expected
        assert {name.rsplit("/", 1)[0] + "/" for name in _files(container)} == {_folder(container)}


def test_files_of_a_brand_that_no_longer_exists_are_removed(container, brand):
    container.blobs.put(CONTAINER_WAREHOUSE, "gone/2029-12-31/members.jsonl", b"{}\n", content_type="text/plain")

    report = _export(container)

    assert report["filesDeleted"] == 1
    assert _files(container, "gone/") == {}


def test_a_dry_run_counts_and_writes_nothing(container, brand, clock):
    _member(container, BRAND, "m-1")
    _export(container)
    before = _files(container)

    clock.advance(timedelta(days=1))
    report = _export(container, dry_run=True)

    assert report == {"dryRun": True, "brands": 1, "exported": 1, "failed": 0, **EMPTY_TABLES, "members": 1,
                      "filesDeleted": len(FILES)}
    assert _files(container) == before


def test_the_timer_job_exports_every_brand(container, brand):
    _make_brand(container, OTHER)
    _member(container, OTHER, "m-globex")
    job = next(job for job in JOBS if job.name == "warehouse_export")
    assert next_fire(job.schedule, datetime.fromisoformat("2030-01-01T00:00:00+00:00")).isoformat() == (
        "2030-01-01T01:30:00+00:00")

    report = job.run(container, False)

    assert (report["brands"], report["exported"], report["members"]) == (2, 2, 1)
    assert json.dumps(report).isascii() and "@" not in json.dumps(report)


def test_the_jobs_are_scheduled_beside_the_other_timers():

    jobs = registry.timer_jobs()
    assert {"warehouse_export", "purge_access_logs", "purge_expired_exports"} <= set(jobs)

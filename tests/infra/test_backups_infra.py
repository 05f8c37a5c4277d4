"""The deployment keeps the guide's backups within Azure's limits: 30 days of point-in-time restore, then
immutable hourly snapshots kept 40 days and monthly ones a year, deleted when their time is over.

Azure's side (infra/checkov, `make lint`): periodic backups stop at 720 hours, continuous ones at 30
days, immutability at 146,000 days. The guide's side is here: the Bicep literals equal the code's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shared.backups.jobs import JOBS
from shared.backups.snapshots import HOURLY, MONTHLY
from shared.ports.blobs import BACKUP_CONTAINERS, CONTAINER_HOURLY, CONTAINER_MONTHLY
from shared.scheduling import next_fire
from tests.infra.test_containers_match_code import COSMOS_BICEP, INFRA, MAIN_BICEP, bicep_var

BACKUP_BICEP = INFRA / "modules" / "backup-storage.bicep"
ROLES_BICEP = INFRA / "modules" / "roles.bicep"
# Continuous30Days: the longest point-in-time restore window Cosmos DB documents.
POINT_IN_TIME_DAYS = 30
GUIDE_HOURLY_DAYS = 40
SCHEDULES = {job.name: job.schedule for job in JOBS}


def _block(source: str, symbolic_name: str) -> str:
    """The text of one resource or module, up to the next top-level declaration (spaces collapsed)."""
    found = re.search(rf"^(?:resource|module) {symbolic_name} .*?(?=^(?:resource|output|module|var|param) |\Z)",
                      source, re.MULTILINE | re.DOTALL)
    assert found is not None, f"no resource or module {symbolic_name}"
    return " ".join(found.group(0).split())


def _fires(schedule: str, days: int) -> list[datetime]:
    start = datetime(2032, 2, 27, tzinfo=UTC)  # across a leap day
    at, fired = start - timedelta(seconds=1), []
    while (at := next_fire(schedule, at)) < start + timedelta(days=days):
        fired.append(at)
    return fired


def test_cosmos_keeps_30_days_of_point_in_time_restore() -> None:
    source = COSMOS_BICEP.read_text()
    assert bicep_var(source, "backupPolicy") == {
        "type": "Continuous", "continuousModeProperties": {"tier": "Continuous30Days"}}
    assert " backupPolicy: backupPolicy " in _block(source, "account")


def test_the_snapshot_containers_are_the_codes_with_the_same_days() -> None:
    source = BACKUP_BICEP.read_text()
    declared = {bicep_var(source, f"{kind}ContainerName"): bicep_var(source, f"{kind}KeepDays")
                for kind in ("hourly", "monthly")}
    assert declared == BACKUP_CONTAINERS
    assert (HOURLY.container, MONTHLY.container) == (CONTAINER_HOURLY, CONTAINER_MONTHLY)


def test_each_snapshot_is_immutable_as_long_as_it_is_kept_then_deleted() -> None:
    source = BACKUP_BICEP.read_text()
    lifecycle = _block(source, "lifecycle")
    for kind in ("hourly", "monthly"):
        policy = _block(source, f"{kind}Immutability")
        assert f"parent: {kind}Container " in policy
        assert f"immutabilityPeriodSinceCreationInDays: {kind}KeepDays " in policy
        assert "allowProtectedAppendWrites: false allowProtectedAppendWritesAll: false" in policy
        assert f"name: {kind}ContainerName " in _block(source, f"{kind}Container")
        rule = lifecycle[lifecycle.index(f"name: 'expire-{kind}-snapshots'"):].split("name: 'expire-")[1]
        assert f"prefixMatch: [ '${{{kind}ContainerName}}/' ]" in rule
        assert f"baseBlob: {{ delete: {{ daysAfterCreationGreaterThan: {kind}KeepDays }} }}" in rule


def test_nothing_keeps_a_deleted_snapshot_longer() -> None:
    service = _block(BACKUP_BICEP.read_text(), "blobService")
    assert "isVersioningEnabled: false" in service
    assert "deleteRetentionPolicy: { enabled: false }" in service


def test_the_policies_are_left_alone_once_locked_by_hand() -> None:
    source = BACKUP_BICEP.read_text()
    for kind in ("hourly", "monthly"):
        assert "= if (immutability == 'Unlocked') {" in _block(source, f"{kind}Immutability")
    assert "immutability: backupImmutability" in _block(MAIN_BICEP.read_text(), "backupStorage")


def test_the_app_writes_its_snapshots_to_the_backup_account() -> None:
    main = MAIN_BICEP.read_text()
    assert "POPSELL_BACKUP_BLOB_ACCOUNT_URL: backupStorage.outputs.blobEndpoint" in main
    assert "backupStorageAccountName: backupStorage.outputs.name" in main
    writer = _block(ROLES_BICEP.read_text(), "backupWriter")
    assert "scope: backupStorage " in writer and "roleIds.storageBlobDataContributor" in writer


def test_every_hour_of_the_last_40_days_can_be_restored() -> None:
    hourly = _fires(SCHEDULES["backup_hourly"], days=3)
    assert len(hourly) == 72 and all(b - a == timedelta(hours=1) for a, b in zip(hourly, hourly[1:], strict=False))
    # Point-in-time restore covers the first 30 days, the hourly snapshots the whole 40.
    assert POINT_IN_TIME_DAYS < GUIDE_HOURLY_DAYS <= BACKUP_CONTAINERS[CONTAINER_HOURLY]


def test_every_month_gets_a_snapshot_kept_a_year() -> None:
    # Hourly tries: the first one of the month takes it, a failed one is made up an hour later.
    assert len(_fires(SCHEDULES["backup_monthly"], days=1)) == 24
    assert BACKUP_CONTAINERS[CONTAINER_MONTHLY] >= 366

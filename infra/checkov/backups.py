"""checkov checks of the backups: Cosmos DB's backup within Azure's documented limits, immutable snapshots.

Azure's documented limits, which a template can otherwise break silently until it is deployed:
- periodic backup: an interval of 1 to 24 hours, each backup kept at least two intervals and at
  most 720 hours (30 days);
- continuous backup: the Continuous7Days or Continuous30Days tier (30 days when none is named);
- a time-based immutability policy: 1 to 146,000 days.
The guide's own figures (40 days, a year) are held by tests/infra/test_backups_infra.py.
"""

from __future__ import annotations

from typing import Any

from checkov.bicep.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

PERIODIC_INTERVAL_MINUTES = (60, 1440)
PERIODIC_MAX_RETENTION_HOURS = 720
CONTINUOUS_TIERS = ("Continuous7Days", "Continuous30Days")
IMMUTABILITY_DAYS = (1, 146_000)


def _unwrapped(conf: dict[str, Any]) -> dict[str, Any]:
    """The resource's own configuration (a conditional resource nests it under `config`)."""
    return conf["config"] if "condition" in conf and isinstance(conf.get("config"), dict) else conf


def _backup_policy(conf: dict[str, Any]) -> dict[str, Any] | None:
    policy = (_unwrapped(conf).get("properties") or {}).get("backupPolicy")
    return policy if isinstance(policy, dict) else None


def _tier(policy: dict[str, Any]) -> Any:
    """The continuous backup tier (Continuous30Days when the template names none)."""
    return (policy.get("continuousModeProperties") or {}).get("tier", "Continuous30Days")


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _BackupCheck(BaseResourceCheck):
    """One check of one resource type, named by the subclass's `check_name`, `check_id` and `resource`."""

    check_name: str
    check_id: str
    resource: str

    def __init__(self) -> None:
        super().__init__(name=self.check_name, id=self.check_id, categories=(CheckCategories.BACKUP_AND_RECOVERY,),
                         supported_resources=(self.resource,))


class CosmosBackupWithinDocumentedLimits(_BackupCheck):
    check_name = "Cosmos DB backup policy stays within Azure's documented limits"
    check_id = "CKV_POPSELL_1"
    resource = "Microsoft.DocumentDB/databaseAccounts"

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/backupPolicy"]
        policy = _backup_policy(conf)
        if policy is None:
            return CheckResult.FAILED  # the default: a backup every 4 hours, kept 8 hours
        if policy.get("type") == "Continuous":
            return CheckResult.PASSED if _tier(policy) in CONTINUOUS_TIERS else CheckResult.FAILED
        if policy.get("type") != "Periodic":
            return CheckResult.FAILED
        periodic = policy.get("periodicModeProperties") or {}
        interval = _whole(periodic.get("backupIntervalInMinutes"))
        retention = _whole(periodic.get("backupRetentionIntervalInHours"))
        if interval is None or retention is None:
            return CheckResult.UNKNOWN
        low, high = PERIODIC_INTERVAL_MINUTES
        within = low <= interval <= high and 2 * interval / 60 <= retention <= PERIODIC_MAX_RETENTION_HOURS
        return CheckResult.PASSED if within else CheckResult.FAILED


class CosmosPointInTimeRestoreOf30Days(_BackupCheck):
    check_name = "Cosmos DB keeps 30 days of point-in-time restore (continuous backup, 30-day tier)"
    check_id = "CKV_POPSELL_2"
    resource = "Microsoft.DocumentDB/databaseAccounts"

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/backupPolicy/type", "properties/backupPolicy/continuousModeProperties/tier"]
        policy = _backup_policy(conf) or {}
        thirty_days = policy.get("type") == "Continuous" and _tier(policy) == "Continuous30Days"
        return CheckResult.PASSED if thirty_days else CheckResult.FAILED


class ImmutabilityPolicyHoldsEveryBlob(_BackupCheck):
    check_name = "A blob container's immutability policy lasts a documented number of days, with no appends"
    check_id = "CKV_POPSELL_3"
    resource = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies"

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/immutabilityPeriodSinceCreationInDays",
                               "properties/allowProtectedAppendWrites", "properties/allowProtectedAppendWritesAll"]
        properties = _unwrapped(conf).get("properties") or {}
        days = _whole(properties.get("immutabilityPeriodSinceCreationInDays"))
        if days is None:
            return CheckResult.UNKNOWN
        low, high = IMMUTABILITY_DAYS
        # Appends would let a snapshot grow after it was written: snapshots are block blobs, written once.
        appends = properties.get("allowProtectedAppendWrites") or properties.get("allowProtectedAppendWritesAll")
        return CheckResult.PASSED if low <= days <= high and not appends else CheckResult.FAILED


check_limits = CosmosBackupWithinDocumentedLimits()
check_restore = CosmosPointInTimeRestoreOf30Days()
check_immutability = ImmutabilityPolicyHoldsEveryBlob()

"""Settings: every one is listed with a safe local value, EU regions only, no local secrets in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_listed_in_the_local_sample():
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    expected = {f"POPSELL_{name.upper()}" for name in Settings.model_fields}
    assert expected - set(values) == set()
    assert {key for key in values if key.startswith("POPSELL_")} - expected == set()


def test_the_local_sample_values_start_the_app(monkeypatch, tmp_path):
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    for key, value in values.items():
        if key.startswith("POPSELL_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("POPSELL_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.store == "sqlite" and settings.dev_mode
    assert settings.cosmos_regions == ["West Europe", "North Europe"]


@pytest.mark.parametrize("regions", ["East US", "West Europe,UK South", "Switzerland North"])
def test_a_cosmos_region_outside_the_eu_is_refused_at_start_up(monkeypatch, regions):
    monkeypatch.setenv("POPSELL_COSMOS_REGIONS", regions)
    with pytest.raises(ValidationError, match="inside the EU"):
        Settings()


def test_production_refuses_the_local_secrets():
    with pytest.raises(ValidationError, match="POPSELL_HASH_MASTER_KEY"):
        Settings(env="production", store="cosmos", bus="servicebus", token_signing_keys="k1:prod-secret")


def test_production_never_has_dev_mode():
    settings = Settings(env="production", store="cosmos", bus="servicebus", hash_master_key="prod-hash",
                        token_signing_keys="k1:prod-secret", dev_endpoints=True)
    assert not settings.dev_mode


def test_signing_keys_keep_their_order_for_rotation():
    settings = Settings(token_signing_keys="new:s2, old:s1")
    assert settings.signing_keys == [("new", "s2"), ("old", "s1")]


def test_production_refuses_an_unresolved_key_vault_reference():
    with pytest.raises(ValidationError, match="Key Vault references not resolved"):
        Settings(env="production", store="cosmos", bus="servicebus", token_signing_keys="k1:prod-secret",
                 hash_master_key="@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/hash/)")

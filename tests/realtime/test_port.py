"""The realtime port's group names, envelopes and limits, and the container's choice of adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.ports.realtime import (
    MAX_GROUPS,
    brand_of_group,
    check_access,
    conversation_group,
    envelope,
    group_name,
    member_group,
)


def test_group_names_start_with_the_brand():
    assert conversation_group(brand_id="acme", conversation_id="c-1") == "brand:acme:conversation:c-1"
    assert member_group(brand_id="acme", member_id="m_1") == "brand:acme:member:m_1"
    assert brand_of_group("brand:acme:member:m_1") == "acme"


@pytest.mark.parametrize("brand_id,item_id", [("acme:member:x", "1"), ("acme", "1:brand:globex"), ("", "1"),
                                              ("acme", ""), ("ac me", "1"), ("acme", "é")])
def test_a_group_part_cannot_smuggle_another_brand(brand_id, item_id):
    with pytest.raises(ValueError):
        group_name(brand_id=brand_id, kind="conversation", item_id=item_id)


@pytest.mark.parametrize("group", ["acme:conversation:1", "brand:acme:unknown:1", "brand:acme:conversation",
                                   "brand:acme:conversation:1:x", ""])
def test_only_named_groups_are_groups(group):
    with pytest.raises(ValueError):
        brand_of_group(group)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        group_name(brand_id="acme", kind="everything", item_id="1")


def test_the_envelope_shape(clock):
    message = envelope(type="conversation.message", brand_id="acme", data={"id": "m"}, sent_at=clock.now())
    assert set(message) == {"type", "brandId", "data", "id", "sentAt"} and len(message["id"]) == 32
    with pytest.raises(ValueError):
        envelope(type="", brand_id="acme", data={}, sent_at=clock.now())


def test_access_limits():
    group = member_group(brand_id="acme", member_id="m")
    with pytest.raises(ValueError):
        check_access([group] * (MAX_GROUPS + 1), timedelta(minutes=5))
    with pytest.raises(ValueError):
        check_access([group], timedelta(hours=25))
    with pytest.raises(ValueError):
        check_access([group], timedelta(0))


def test_the_container_picks_the_adapter_by_settings(settings, clock):
    from popsell.bootstrap import build_container

    local = build_container(settings, clock=clock)
    assert type(local.realtime).__name__ == "LocalRealtimeHub"
    chosen = build_container(settings.model_copy(update={"realtime": "webpubsub", "webpubsub_endpoint": "https://x"}),
                             clock=clock)
    assert type(chosen.realtime).__name__ == "WebPubSubRealtime"
    chosen.close()
    production = build_container(settings.model_copy(update={"env": "production"}), clock=clock)
    with pytest.raises(ValueError, match="POPSELL_REALTIME=webpubsub"):
        production.realtime  # noqa: B018

"""A member's life raises its events (joined, status changed, erased), again on a retry with the
same id; the CRM erases the member's contacts on MemberErased, also after a crash between the two."""

from __future__ import annotations

import pytest

from popsell.event_wiring import subscriptions
from shared.crm.consent import BrandOptIn
from shared.events.dispatcher import Subscription
from shared.gdpr import erasure
from shared.identity import lifecycle
from shared.identity.events import MemberErased, MemberStatusChanged
from shared.identity.models import Role
from shared.ports.store import PatchOp
from tests.events.test_dispatcher import install
from tests.gdpr.test_erasure import BRAND, _contact, add_member, hasher, store  # noqa: F401 (fixtures)


def recorded(container, kind) -> list:
    """Record the events of `kind` beside the product's own handlers."""
    seen: list = []
    install(container, *subscriptions(), Subscription(kind, "test.record", lambda platform, event: seen.append(event)))
    return seen


def test_block_and_unblock_raise_status_changes_and_a_retried_block_the_same_event(container, store,  # noqa: F811
                                                                                   hasher):  # noqa: F811
    add_member(container, store, hasher)
    store.patch("members", "m1", [PatchOp("set", "status", "active")])
    seen = recorded(container, MemberStatusChanged)
    lifecycle.block(store=store, events=container.events, member_id="m1", now=container.clock.now())
    lifecycle.block(store=store, events=container.events, member_id="m1", now=container.clock.now())
    lifecycle.unblock(store=store, events=container.events, member_id="m1", now=container.clock.now())
    assert [(event.action, event.status) for event in seen] == [("block", "blocked"), ("block", "blocked"),
                                                                ("unblock", "active")]
    assert seen[0].id == seen[1].id != seen[2].id
    assert (seen[0].member_id, seen[0].brand_id) == ("m1", BRAND)


def test_an_erasure_raises_member_erased_once_per_kind_of_erasure(container, store, hasher):  # noqa: F811
    add_member(container, store, hasher, role=Role.VENDOR)
    seen = recorded(container, MemberErased)
    for rule in ("member_unsubscribed", "member_unsubscribed", "brand_contract_ended"):
        erasure.erase_member(store=store, blobs=container.blobs, events=container.events, hasher=hasher,
                             member_id="m1", now=container.clock.now(), rule=rule)
    assert [event.brand_data_goes for event in seen] == [False, False, True]
    assert seen[0].id == seen[1].id != seen[2].id


def test_a_crash_before_the_contacts_go_is_repaired_by_the_retried_erasure(container, store, hasher):  # noqa: F811
    add_member(container, store, hasher)
    _contact(container, store, hasher, "c-none", BrandOptIn.NO_OPT_IN)
    calls = []

    def crash_once(platform, event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("killed before the contacts")

    install(container, Subscription(MemberErased, "crash", crash_once), *subscriptions())
    with pytest.raises(RuntimeError):
        erasure.erase_member(store=store, blobs=container.blobs, events=container.events, hasher=hasher,
                             member_id="m1", now=container.clock.now(), rule="member_unsubscribed")
    assert store.get("contacts", "c-none")["email"] == "c-none@example.com"  # the member is erased, not yet these
    assert store.get("members", "m1")["status"] == "erased"
    erasure.erase_member(store=store, blobs=container.blobs, events=container.events, hasher=hasher,
                         member_id="m1", now=container.clock.now(), rule="member_unsubscribed")
    assert store.get("contacts", "c-none")["email"] is None
    assert calls[0] == calls[1]  # the retry raised the same event

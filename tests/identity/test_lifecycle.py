"""Member lifecycle rules on the real store: which status can go where, deadlines, the way back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from popsell.bootstrap import get_container
from shared.brands.models import Brand, RetentionSettings
from shared.errors import Conflict
from shared.identity import lifecycle, repository
from shared.identity.models import Member, Role

BRAND = "acme"

# (status before, action) -> status after, or Conflict. Actions not listed for a status are refused.
TABLE = [
    ("active", "block", "blocked"),
    ("blocked", "block", "blocked"),
    ("pending_verification", "block", Conflict),
    ("unsubscribed", "block", Conflict),
    ("blocked", "unblock", "active"),
    ("active", "unblock", "active"),
    ("contract_ended", "unblock", Conflict),
    ("active", "unsubscribe", "unsubscribed"),
    ("blocked", "unsubscribe", Conflict),
    ("contract_ended", "unsubscribe", Conflict),
    ("unsubscribed", "cancel_unsubscription", "active"),
    ("active", "cancel_unsubscription", Conflict),
    ("contract_ended", "cancel_unsubscription", Conflict),
    ("active", "end_contract", "contract_ended"),
    ("blocked", "end_contract", "contract_ended"),
    ("pending_verification", "end_contract", "contract_ended"),
    ("unsubscribed", "end_contract", "contract_ended"),
    ("contract_ended", "end_contract", "contract_ended"),
    ("erased", "end_contract", "erased"),
    ("contract_ended", "reactivate", "active"),
    ("blocked", "reactivate", Conflict),
    ("unsubscribed", "reactivate", Conflict),
    ("erased", "reactivate", Conflict),
]


def events():
    """The process's dispatcher (the test's container), with the product's subscriptions."""
    return get_container().events


@pytest.fixture
def store(container):
    return container.store.for_brand(BRAND)


@pytest.fixture
def brand(clock):
    return Brand(id=BRAND, name="Acme", createdAt=clock.now(), updatedAt=clock.now(),
                 retention=RetentionSettings(unsubscriptionDays=3, endOfContractDays=5))


def add_member(store, clock, status="active", member_id="m1", **extra) -> Member:
    member = Member(id=member_id, role=Role.VENDOR, status=status, created_at=clock.now(), first_name="Ana", **extra)
    lifecycle.save_member(store=store, member=member, etag=None)
    return member


def run(action, *, store, brand, clock, member_id="m1"):
    now = clock.now()
    if action == "block":
        return lifecycle.block(store=store, events=events(), member_id=member_id, now=now)
    if action == "unblock":
        return lifecycle.unblock(store=store, events=events(), member_id=member_id, now=now)
    if action == "end_contract":
        return lifecycle.end_contract(store=store, events=events(), brand=brand, member_id=member_id, now=now,
                                      source="manager")
    return getattr(lifecycle, action)(store=store, events=events(), brand=brand, member_id=member_id, now=now)


@pytest.mark.parametrize(("before", "action", "after"), TABLE, ids=[f"{b}-{a}" for b, a, _ in TABLE])
def test_transition_table(store, brand, clock, before, action, after):
    due = clock.now() + timedelta(days=2) if before in ("unsubscribed", "contract_ended") else None
    add_member(store, clock, status=before, erasure_due_at=due)
    clock.advance(timedelta(hours=1))
    if after is Conflict:
        with pytest.raises(Conflict):
            run(action, store=store, brand=brand, clock=clock)
        assert repository.get_member(store=store, member_id="m1")[0].status == before
        return
    result = run(action, store=store, brand=brand, clock=clock)
    stored, _ = repository.get_member(store=store, member_id="m1")
    assert result.status == stored.status == after


def doc(store, member_id="m1"):
    return store.get(repository.MEMBERS, member_id)


def test_unsubscribing_schedules_the_erasure_after_the_brands_delay(store, brand, clock):
    add_member(store, clock)
    member = lifecycle.unsubscribe(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())
    assert member.erasure_due_at == clock.now() + timedelta(days=3)
    stored = doc(store)
    assert stored["statusChangedAt"] == "2030-01-01T09:00:00Z"
    assert stored["retention"] == {"dueAt": "2030-01-04T09:00:00Z", "rule": "member_unsubscribed"}
    assert stored["directory"]["listed"] is False


def test_ending_a_contract_twice_does_not_move_the_deadline(store, brand, clock):
    add_member(store, clock)
    first = lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(),
                                   source="sso")
    clock.advance(timedelta(days=2))
    again = lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(),
                                   source="api")
    assert again.erasure_due_at == first.erasure_due_at == first.status_changed_at + timedelta(days=5)
    assert doc(store)["retention"] == {"dueAt": "2030-01-06T09:00:00Z", "rule": "member_contract_ended"}


def test_an_unsubscribed_member_whose_contract_ends_keeps_the_earlier_deadline(store, brand, clock):
    add_member(store, clock)
    left = lifecycle.unsubscribe(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())
    clock.advance(timedelta(days=1))
    ended = lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(),
                                   source="sso")
    assert ended.status == "contract_ended"
    assert ended.erasure_due_at == left.erasure_due_at


def test_reactivation_works_until_the_erasure_is_due_and_clears_it(store, brand, clock):
    add_member(store, clock)
    lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(), source="manager")
    clock.advance(timedelta(days=5) - timedelta(seconds=1))
    member = lifecycle.reactivate(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())
    assert member.status == "active" and member.erasure_due_at is None
    # No erasure scheduled: only the 3-year inactivity clock runs again.
    assert doc(store)["retention"]["rule"] == "member_inactive"


def test_reactivation_after_the_deadline_is_too_late(store, brand, clock):
    add_member(store, clock)
    lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(), source="manager")
    clock.advance(timedelta(days=5))
    with pytest.raises(Conflict, match="Too late"):
        lifecycle.reactivate(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())
    assert doc(store)["status"] == "contract_ended"


def test_cancelling_an_unsubscription_is_too_late_once_due(store, brand, clock):
    add_member(store, clock)
    lifecycle.unsubscribe(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())
    clock.advance(timedelta(days=3, minutes=1))
    with pytest.raises(Conflict, match="Too late"):
        lifecycle.cancel_unsubscription(store=store, events=events(), brand=brand, member_id="m1", now=clock.now())


def test_blocking_schedules_nothing_and_goes_offline(store, brand, clock):
    add_member(store, clock, availability="online", availability_until=clock.now() + timedelta(minutes=10))
    member = lifecycle.block(store=store, events=events(), member_id="m1", now=clock.now())
    assert member.availability == "offline" and member.erasure_due_at is None
    assert doc(store)["retention"]["rule"] == "member_inactive"


def test_an_unknown_end_of_contract_source_is_a_programming_error(store, brand, clock):
    add_member(store, clock)
    with pytest.raises(ValueError):
        lifecycle.end_contract(store=store, events=events(), brand=brand, member_id="m1", now=clock.now(),
                               source="cron")

"""Access logs: anonymous (hashed IP and user agent), kept one year, then removed by a timer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.gdpr import access_logs
from shared.gdpr.purge_jobs import JOBS
from shared.identity import activity, repository
from shared.scheduling import next_fire
from tests.identity.test_auth_support import (
    BRAND,
    EMAIL,
    PASSWORD,
    fast_bcrypt,  # noqa: F401 - a fixture
    make_brand,
    sign_up_and_verify,
)

OTHER = "globex"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) WarehouseTestBrowser/42.0"


def _record(container, brand_id, subject, days_ago, *, with_ttl=True):
    """An activity record written `days_ago` days before now (the clock is moved back, then forward)."""
    clock = container.clock
    now = clock.now()
    clock.set(now - timedelta(days=days_ago))
    store = container.store.for_brand(brand_id)
    hasher = container.hasher(brand_id)
    ip_hash, ua_hash = activity.client_hashes(hasher, ip="203.0.113.9", user_agent=USER_AGENT)
    record_id = activity.record(store=store, subject=subject, kind="login", method="password", now=clock.now(),
                                ip_hash=ip_hash, user_agent_hash=ua_hash)
    if not with_ttl:
        doc = store.get(activity.CONTAINER, record_id, pk=f"{brand_id}|{subject}")
        doc.pop("ttl")
        store.replace(activity.CONTAINER, doc)
    clock.set(now)
    return record_id


def _ids(container, brand_id):
    return {doc["id"] for doc in container.store.for_brand(brand_id).query_all(activity.CONTAINER)}


def _create_brand(container, brand_id):
    brands.create(store=container.store, clock=container.clock,
                  data=BrandCreate.model_validate({"id": brand_id, "name": brand_id.title()}))


@pytest.mark.parametrize(("days_ago", "kept"), [(366, False), (365.5, False), (364, True), (1, True), (0, True)])
def test_records_older_than_a_year_are_removed(container, days_ago, kept):
    record_id = _record(container, BRAND, "m-1", days_ago)

    report = access_logs.purge_brand(store=container.store.for_brand(BRAND), now=container.clock.now())

    assert (record_id in _ids(container, BRAND)) is kept
    assert report == {"due": int(not kept), "deleted": int(not kept)}


def test_every_subject_of_the_brand_is_swept_and_records_without_ttl_too(container):
    old = {_record(container, BRAND, f"m-{index}", 366 + index, with_ttl=index % 2 == 0) for index in range(7)}
    recent = {_record(container, BRAND, f"m-{index}", 364) for index in range(3)}

    report = access_logs.purge_brand(store=container.store.for_brand(BRAND), now=container.clock.now(),
                                     batch_size=2)

    assert report == {"due": 7, "deleted": 7}
    assert _ids(container, BRAND) == recent and not old & _ids(container, BRAND)


def test_another_brand_is_untouched(container):
    _record(container, BRAND, "m-1", 366)
    other_old = _record(container, OTHER, "m-1", 366)

    access_logs.purge_brand(store=container.store.for_brand(BRAND), now=container.clock.now())

    assert _ids(container, BRAND) == set()
    assert _ids(container, OTHER) == {other_old}


def test_a_dry_run_lists_counts_only(container):
    _create_brand(container, BRAND)
    old = {_record(container, BRAND, "m-1", 366), _record(container, BRAND, "m-2", 400)}
    recent = _record(container, BRAND, "m-1", 364)
    job = next(job for job in JOBS if job.name == "purge_access_logs")

    report = job.run(container, True)

    assert report == {"dryRun": True, "brands": 2, "failed": 0, "due": 2, "deleted": 0}
    assert _ids(container, BRAND) == old | {recent}


def test_the_timer_job_sweeps_every_brand_daily(container, clock):
    _create_brand(container, BRAND)
    _create_brand(container, OTHER)
    _record(container, BRAND, "m-1", 366)
    _record(container, OTHER, "m-2", 366)
    kept = {_record(container, BRAND, "m-1", 364), _record(container, OTHER, "m-2", 10)}
    job = next(job for job in JOBS if job.name == "purge_access_logs")
    assert next_fire(job.schedule, datetime.fromisoformat("2030-01-01T00:00:00+00:00")).isoformat() == (
        "2030-01-01T03:45:00+00:00")

    report = job.run(container, False)

    assert report == {"dryRun": False, "brands": 3, "failed": 0, "due": 2, "deleted": 2}
    assert _ids(container, BRAND) | _ids(container, OTHER) == kept
    # Two days later the 364-day-old record has passed its year too.
    clock.advance(timedelta(days=2))
    assert job.run(container, False)["deleted"] == 1
    assert json.dumps(report).isascii()


@pytest.mark.usefixtures("fast_bcrypt")
def test_login_records_hold_no_ip_or_user_agent_in_clear(client, container):
    make_brand(container)
    sign_up_and_verify(client, container)

    response = client.post(f"/api/v1/app/{BRAND}/auth/login", json={"email": EMAIL, "password": PASSWORD},
                           headers={"User-Agent": USER_AGENT})

    assert response.status_code == 200
    store = container.store.for_brand(BRAND)
    member_id = repository.owner_of(store=store, kind="email", hashed=container.hasher(BRAND)("email", EMAIL))
    [record] = [doc for doc in store.query_all(activity.CONTAINER) if doc["kind"] == "login"]
    hasher = container.hasher(BRAND)
    assert record["subject"] == member_id
    assert record["ipHash"] == hasher("ip", "testclient")
    assert record["userAgentHash"] == hasher("user_agent", USER_AGENT)
    text = json.dumps(record)
    for clear in ("testclient", "WarehouseTestBrowser", "Mozilla", EMAIL, PASSWORD):
        assert clear not in text
    assert record["ttl"] == 365 * 86400

"""The brand's view of share links (Manager): listing, filters, levels, and the brand's disabling rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import isoformat
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import link_codes, links
from shared.tracking.redirect import CACHE_TTL_SECONDS
from tests.tracking.test_links_api import (  # noqa: F401 - pytest fixtures used as arguments
    BRAND,
    HOME,
    LINKS,
    OTHER,
    create_link,
    links_client,
    members,
)
from tests.tracking.test_redirect import BROWSER, visits

MANAGER = f"/api/v1/manager/brands/{BRAND}/links"
TARGET = "https://www.acme.com/p/42"


def other_brand_link(client, members) -> dict:  # noqa: F811 - the fixture's value
    body = {"source": "email", "target": {"kind": "url", "url": "https://other.com/"}}
    response = client.post(f"/api/v1/app/{OTHER}/links", headers=members["o1"], json=body)
    assert response.status_code == 201
    return response.json()


def click(client, code: str) -> str:
    return client.get(f"/t/{code}", headers={"User-Agent": BROWSER}).headers["location"]


def pages(client, headers, **params) -> list[list[str]]:
    """Every page of a listing, as lists of link ids."""
    result, token = [], None
    while True:
        response = client.get(MANAGER, headers=headers, params={**params, **({"continuation": token} if token else {})})
        assert response.status_code == 200, response.text
        result.append([item["id"] for item in response.json()["items"]])
        token = response.json()["continuation"]
        if token is None:
            return result


@pytest.fixture
def shared_links(links_client, container, members):  # noqa: F811
    """Four acme links (m1, m2, m1, m1: oldest first) and one of the other brand."""
    created = []
    for member_id, source in (("m1", "email"), ("m2", "sms"), ("m1", "x"), ("m1", "whatsapp")):
        created.append(create_link(links_client, members[member_id], source=source).json())
        container.clock.advance(timedelta(minutes=1))
    other_brand_link(links_client, members)
    return created


def test_the_brand_lists_its_links_newest_first_page_by_page(links_client, container, manager_token,  # noqa: F811 - pytest fixtures
                                                             shared_links):
    viewer = manager_token("viewer", BRAND)
    newest_first = [link["id"] for link in reversed(shared_links)]
    assert pages(links_client, viewer, pageSize=3) == [newest_first[:3], newest_first[3:]]
    first = links_client.get(MANAGER, headers=viewer, params={"pageSize": 1}).json()["items"][0]
    newest = shared_links[-1]
    assert first == {
        "id": newest["id"], "code": newest["code"], "shortUrl": newest["shortUrl"], "memberId": "m1",
        "source": "whatsapp", "target": newest["target"], "status": "active",
        "createdAt": newest["createdAt"], "updatedAt": newest["updatedAt"], "disabledBy": None,
    }


def test_the_brand_filters_by_member_and_by_status(links_client, container, manager_token, members, shared_links):  # noqa: F811 - pytest fixtures
    editor = manager_token("editor", BRAND)
    m1, m2, m1_x, m1_whatsapp = (link["id"] for link in shared_links)
    assert pages(links_client, editor, memberId="m1", pageSize=2) == [[m1_whatsapp, m1_x], [m1]]
    assert pages(links_client, editor, memberId="m2") == [[m2]]
    assert pages(links_client, editor, memberId="o1") == [[]]  # another brand's member: nothing
    links_client.patch(f"{MANAGER}/{m1}", headers=editor, json={"status": "disabled"})
    links_client.patch(f"{LINKS}/{m1_whatsapp}", headers=members["m1"], json={"status": "disabled"})
    # status is filtered while paging: short pages may come, never a wrong or a missing link
    disabled = sum(pages(links_client, editor, status="disabled", pageSize=1), [])
    assert disabled == [m1_whatsapp, m1]
    assert sum(pages(links_client, editor, status="active"), []) == [m1_x, m2]
    assert sum(pages(links_client, editor, status="active", memberId="m1"), []) == [m1_x]


def test_another_brands_links_are_never_listed_nor_readable(links_client, manager_token, members, shared_links):  # noqa: F811 - pytest fixtures
    theirs = other_brand_link(links_client, members)
    ours = shared_links[0]
    acme, other = manager_token("editor", BRAND), manager_token("editor", OTHER)
    assert theirs["id"] not in sum(pages(links_client, acme), [])
    for path, headers in ((f"{MANAGER}/{theirs['id']}", acme),                       # their link on our path
                          (f"/api/v1/manager/brands/{OTHER}/links/{ours['id']}", other),  # ours on theirs
                          (f"{MANAGER}/{ours['id']}", other),                          # their token on our path
                          (MANAGER, other),
                          (f"{MANAGER}/lknosuchlink", acme)):                         # unknown
        assert links_client.get(path, headers=headers).status_code == 404
        if path != MANAGER:
            assert links_client.patch(path, headers=headers, json={"status": "disabled"}).status_code == 404
    assert links_client.get(f"/api/v1/app/{OTHER}/links/{theirs['id']}", headers=members["o1"]).json()[
        "status"] == "active"


@pytest.mark.parametrize(("level", "read", "write"), [
    ("viewer", 200, 403),
    ("editor", 200, 200),
    ("admin", 200, 200),
    ("operator", 200, 200),
])
def test_viewers_read_editors_and_above_disable(links_client, manager_token, shared_links, level, read, write):  # noqa: F811 - pytest fixtures
    headers = manager_token(level, BRAND)
    link_id = shared_links[0]["id"]
    assert links_client.get(MANAGER, headers=headers).status_code == read
    assert links_client.get(f"{MANAGER}/{link_id}", headers=headers).status_code == read
    response = links_client.patch(f"{MANAGER}/{link_id}", headers=headers, json={"status": "disabled"})
    assert response.status_code == write
    expected = "active" if write == 403 else "disabled"
    assert links_client.get(f"{MANAGER}/{link_id}", headers=headers).json()["status"] == expected


@pytest.mark.parametrize(("method", "params", "body", "field"), [
    ("GET", {"pageSize": 0}, None, "pageSize"),
    ("GET", {"pageSize": 101}, None, "pageSize"),
    ("GET", {"status": "deleted"}, None, "status"),
    ("GET", {"memberId": ""}, None, "memberId"),
    ("PATCH", {}, {"status": "deleted"}, "status"),
    ("PATCH", {}, {}, "status"),
    ("PATCH", {}, {"status": "disabled", "reason": "spam"}, "reason"),
])
def test_bad_input_is_refused_naming_the_field(links_client, container, manager_token, shared_links, method,  # noqa: F811 - pytest fixtures
                                               params, body, field):
    link = shared_links[0]
    path = MANAGER if method == "GET" else f"{MANAGER}/{link['id']}"
    response = links_client.request(method, path, headers=manager_token("editor", BRAND), params=params, json=body)
    assert response.status_code == 422
    assert any(field in error["field"] for error in response.json()["errors"])
    assert container.store.for_brand(BRAND).get(links.CONTAINER, link["id"])["status"] == "active"


def test_a_brand_disabled_link_goes_home_and_its_member_cannot_re_enable_it(links_client, container, manager_token,  # noqa: F811 - pytest fixtures
                                                                           members, shared_links):  # noqa: F811 - pytest fixtures
    link = shared_links[0]
    assert click(links_client, link["code"]).startswith(TARGET)  # the redirect caches the active code
    visits(container)
    response = links_client.patch(f"{MANAGER}/{link['id']}", headers=manager_token("editor", BRAND),
                                  json={"status": "disabled"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disabled"
    assert response.json()["disabledBy"] == {"by": "brand", "userId": f"mu-editor-{BRAND}",
                                             "at": isoformat(container.clock.now())}
    assert click(links_client, link["code"]) == HOME  # at once on this instance
    assert visits(container) == []

    refused = links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": "active"})
    assert refused.status_code == 409
    assert refused.json()["reason"] == "disabled-by-brand" and "brand" in refused.json()["detail"]
    assert links_client.get(f"{LINKS}/{link['id']}", headers=members["m1"]).json()["status"] == "disabled"
    assert link_codes.find(platform=container.store.for_brand(PLATFORM_SCOPE), code=link["code"]).status == "disabled"
    assert click(links_client, link["code"]) == HOME
    # Disabling it again is harmless for the member and keeps the brand's hold.
    again = links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": "disabled"})
    assert again.status_code == 200
    assert links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"],
                              json={"status": "active"}).status_code == 409


def test_the_brand_re_enables_a_link_it_disabled(links_client, container, manager_token, members, shared_links):  # noqa: F811 - pytest fixtures
    link, editor = shared_links[0], manager_token("editor", BRAND)
    links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "disabled"})
    container.clock.advance(timedelta(minutes=5))
    enabled = links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "active"})
    assert enabled.status_code == 200
    assert (enabled.json()["status"], enabled.json()["disabledBy"]) == ("active", None)
    assert enabled.json()["updatedAt"] == isoformat(container.clock.now())
    assert click(links_client, link["code"]).startswith(TARGET + "?popsell_ref=")
    # Back in the member's hands: they may disable and re-enable it as before.
    for status in ("disabled", "active"):
        response = links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": status})
        assert response.status_code == 200 and response.json()["status"] == status


def test_a_member_disabled_link_stays_the_members_to_re_enable(links_client, container, manager_token, members,  # noqa: F811 - pytest fixtures
                                                              shared_links):
    link, editor = shared_links[0], manager_token("editor", BRAND)
    links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": "disabled"})
    assert links_client.get(f"{MANAGER}/{link['id']}", headers=editor).json()["disabledBy"] is None
    refused = links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "active"})
    assert refused.status_code == 409 and refused.json()["reason"] == "disabled-by-member"
    assert click(links_client, link["code"]) == HOME
    enabled = links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": "active"})
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    assert click(links_client, link["code"]).startswith(TARGET)
    # The brand may still take a member-disabled link over: then only the brand re-enables it.
    links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"], json={"status": "disabled"})
    taken = links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "disabled"})
    assert taken.json()["disabledBy"]["by"] == "brand"
    assert links_client.patch(f"{LINKS}/{link['id']}", headers=members["m1"],
                              json={"status": "active"}).status_code == 409


def test_other_instances_obey_a_brand_disabling_within_the_cache_lifetime(links_client, container, shared_links):  # noqa: F811 - pytest fixtures
    link = shared_links[0]
    assert click(links_client, link["code"]).startswith(TARGET)
    # Disabled through the service, as another instance would: this instance's cache is not told.
    platform = container.store.for_brand(PLATFORM_SCOPE)
    links.set_status_by_brand(store=container.store.for_brand(BRAND), platform=platform,
                              link_id=link["id"], status="disabled", manager_user_id="mu-1", now=container.clock.now())
    container.clock.advance(timedelta(seconds=CACHE_TTL_SECONDS - 1))
    assert click(links_client, link["code"]).startswith(TARGET)
    container.clock.advance(timedelta(seconds=2))
    assert click(links_client, link["code"]) == HOME


def test_a_brand_disabled_link_of_an_erased_member_stays_disabled(links_client, container, manager_token,  # noqa: F811 - pytest fixtures
                                                                 shared_links):
    from shared.gdpr import erasure

    link, editor = shared_links[0], manager_token("editor", BRAND)
    links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "disabled"})
    erasure.erase_member(store=container.store.for_brand(BRAND), blobs=container.blobs, events=container.events,
                         hasher=container.hasher(BRAND), member_id="m1", now=container.clock.now(),
                         rule="member_unsubscribed")
    refused = links_client.patch(f"{MANAGER}/{link['id']}", headers=editor, json={"status": "active"})
    assert refused.status_code == 409 and refused.json()["reason"] == "member-erased"
    assert click(links_client, link["code"]) == HOME

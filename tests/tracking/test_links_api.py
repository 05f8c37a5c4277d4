"""Share links through the App API: target rules (allowed domains), codes, ownership, status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.brands import service as brands
from shared.brands.models import BrandCreate, BrandUpdate
from shared.store_schema import PLATFORM_SCOPE
from shared.tracking import link_codes, links
from tests.identity.test_profile_api import add_member, app_headers

BRAND, OTHER = "acme", "other"
LINKS = f"/api/v1/app/{BRAND}/links"
HOME = "https://www.acme.com/"


def make_brands(container) -> None:
    """Two brands: acme (links allowed on acme.com and acme.fr) and another one."""
    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate({
        "id": BRAND, "name": "Acme", "allowedDomains": ["acme.com", "acme.fr"], "homeUrl": HOME,
        "widgetAllowedOrigins": ["https://shop.acme.com"]}))
    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate({
        "id": OTHER, "name": "Other", "allowedDomains": ["other.com"]}))


@pytest.fixture
def links_client(container):
    from functions.http_api import app as app_module

    make_brands(container)
    with TestClient(app_module.create_app(container.settings), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def members(container, links_client):
    heads = {member_id: app_headers(container, add_member(container, member_id=member_id))
             for member_id in ("m1", "m2")}
    heads["o1"] = app_headers(container, add_member(container, brand_id=OTHER, member_id="o1"), brand_id=OTHER)
    return heads


def create_link(client, headers, url="https://www.acme.com/p/42", source="facebook", kind="product", **target):
    body = {"source": source, "target": {"kind": kind, **({"url": url} if url else {}), **target}}
    return client.post(LINKS, headers=headers, json=body)


@pytest.mark.parametrize("url", [
    "https://acme.com/spring",
    "https://www.acme.com/p/42?color=red#reviews",
    "https://eu.shop.acme.com/p/42",
    "https://ACME.fr/",
])
def test_a_member_links_to_a_page_of_an_allowed_domain_or_a_subdomain(links_client, container, members, url):
    response = create_link(links_client, members["m1"], url=url)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["target"] == {"kind": "product", "url": url, "productId": None, "publicationId": None}
    assert body["status"] == "active" and body["source"] == "facebook" and body["qr"] is None
    assert body["shortUrl"] == f"{container.settings.public_base_url}/t/{body['code']}"
    assert len(body["code"]) == links.CODE_LENGTH and body["code"].isalnum()
    code = link_codes.find(platform=container.store.for_brand(PLATFORM_SCOPE), code=body["code"])
    assert code is not None and (code.brand, code.link_id, code.member_id, code.url) == (BRAND, body["id"], "m1", url)
    assert container.store.for_brand(BRAND).get(links.CONTAINER, body["id"])["memberId"] == "m1"


@pytest.mark.parametrize("url", [
    "https://evil.com/acme.com",
    "https://acme.com.evil.com/",
    "https://notacme.com/",
    "http://www.acme.com/p/42",        # https only
    "https://user:pw@www.acme.com/",   # credentials in a link are a phishing trick
    "javascript:alert(1)",
    "www.acme.com/p/42",
    "https://acme.com:99999/",
    None,                              # a URL target without a URL
])
def test_a_target_off_the_brands_allowed_domains_is_refused_and_nothing_is_written(links_client, container,
                                                                                   members, url):
    response = create_link(links_client, members["m1"], url=url, kind="url")
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["target.url"]
    assert container.store.for_brand(BRAND).query(links.CONTAINER).items == []
    assert container.store.for_brand(PLATFORM_SCOPE).query(link_codes.CONTAINER).items == []


def test_a_brand_without_allowed_domains_accepts_profile_links_only(links_client, container, members):
    brands.update(store=container.store, clock=container.clock, brand_id=BRAND,
                  changes=BrandUpdate.model_validate({"allowedDomains": []}))
    assert create_link(links_client, members["m1"], kind="url").status_code == 422
    assert create_link(links_client, members["m1"], url=None, kind="profile").status_code == 201


def test_a_profile_link_targets_the_members_own_public_profile(links_client, container, members):
    response = create_link(links_client, members["m2"], url=None, kind="profile", source="whatsapp")
    assert response.status_code == 201, response.text
    assert response.json()["target"]["url"] == f"{container.settings.app_base_url}/{BRAND}/members/m2"
    elsewhere = create_link(links_client, members["m2"], url="https://www.acme.com/", kind="profile")
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "target.url"


@pytest.mark.parametrize(("body", "field"), [
    ({"source": "myspace", "target": {"kind": "url", "url": "https://acme.com/"}}, "source"),
    ({"source": "email", "target": {"kind": "shop", "url": "https://acme.com/"}}, "target.kind"),
    ({"source": "email"}, "target"),
])
def test_an_unknown_source_or_target_kind_is_refused(links_client, members, body, field):
    response = links_client.post(LINKS, headers=members["m1"], json=body)
    assert response.status_code == 422
    assert any(field in error["field"] for error in response.json()["errors"])


def test_qr_code_links_come_with_their_qr_image_urls(links_client, members):
    body = create_link(links_client, members["m1"], source="qr_code").json()
    base = f"{LINKS}/{body['id']}"
    assert body["qr"]["png"].endswith(f"{base}/qr.png") and body["qr"]["svg"].endswith(f"{base}/qr.svg")


def test_a_member_lists_their_own_links_newest_first_page_by_page(links_client, container, members):
    from datetime import timedelta

    created = []
    for source in ("email", "sms", "x"):
        created.append(create_link(links_client, members["m1"], source=source).json()["id"])
        container.clock.advance(timedelta(minutes=1))
    create_link(links_client, members["m2"])
    first = links_client.get(LINKS, headers=members["m1"], params={"pageSize": 2}).json()
    assert [item["id"] for item in first["items"]] == created[::-1][:2] and first["continuation"]
    second = links_client.get(LINKS, headers=members["m1"],
                              params={"pageSize": 2, "continuation": first["continuation"]}).json()
    assert [item["id"] for item in second["items"]] == [created[0]] and second["continuation"] is None
    assert links_client.get(f"{LINKS}/{created[1]}", headers=members["m1"]).json()["source"] == "sms"


def test_another_members_link_or_another_brands_answers_404(links_client, members):
    link_id = create_link(links_client, members["m1"]).json()["id"]
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"status": "disabled"}),
                                 ("GET", "/qr.png", None), ("GET", "/qr.svg", None)):
        assert links_client.request(method, f"{LINKS}/{link_id}{suffix}", headers=members["m2"],
                                    json=body).status_code == 404
    # A member of another brand: neither on their brand's path nor with their token on ours.
    assert links_client.get(f"/api/v1/app/{OTHER}/links/{link_id}", headers=members["o1"]).status_code == 404
    assert links_client.get(f"{LINKS}/{link_id}", headers=members["o1"]).status_code == 404
    assert links_client.get(f"/api/v1/app/{OTHER}/links", headers=members["o1"]).json()["items"] == []


def test_a_member_disables_and_re_enables_a_link_and_its_code_follows(links_client, container, members):
    body = create_link(links_client, members["m1"]).json()
    platform = container.store.for_brand(PLATFORM_SCOPE)
    disabled = links_client.patch(f"{LINKS}/{body['id']}", headers=members["m1"], json={"status": "disabled"})
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert link_codes.find(platform=platform, code=body["code"]).status == "disabled"
    assert links_client.get(f"{LINKS}/{body['id']}", headers=members["m1"]).json()["status"] == "disabled"
    enabled = links_client.patch(f"{LINKS}/{body['id']}", headers=members["m1"], json={"status": "active"})
    assert enabled.json()["status"] == "active" and link_codes.find(platform=platform,
                                                                    code=body["code"]).status == "active"
    refused = links_client.patch(f"{LINKS}/{body['id']}", headers=members["m1"], json={"status": "deleted"})
    assert refused.status_code == 422


def test_a_code_already_taken_is_drawn_again(links_client, container, members, monkeypatch):
    taken = create_link(links_client, members["m1"]).json()["code"]
    draws = iter([taken, taken, "Fresh42"])
    monkeypatch.setattr(links, "new_code", lambda: next(draws))
    response = create_link(links_client, members["m2"])
    assert response.status_code == 201 and response.json()["code"] == "Fresh42"
    assert link_codes.find(platform=container.store.for_brand(PLATFORM_SCOPE), code=taken).member_id == "m1"

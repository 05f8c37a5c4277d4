"""Brand email templates: Manager CRUD and levels, placeholders, and members' campaigns sent from a template."""

from __future__ import annotations

import pytest

from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.crm.models import ContactSource
from tests.crm.test_campaigns import APP, BRAND, LINK, new_contact, outbox

TEMPLATES = f"/api/v1/manager/brands/{BRAND}/email-templates"
TEXT = "Hello {{firstName}}, our spring pieces are in. {{ signature }}"
BODY = {"name": "Spring 2030", "locale": "fr", "title": "Printemps {{firstName}}", "text": TEXT, "link": LINK}


@pytest.fixture
def editor(manager_token, cp_client):
    return manager_token("editor", BRAND)


def create(client, headers, **changes):
    return client.post(TEMPLATES, headers=headers, json={**BODY, **changes})


def published_template(client, editor, **changes) -> dict:
    answer = create(client, editor, status="published", **changes)
    assert answer.status_code == 201, answer.text
    return answer.json()


def send(client, headers, template_id, **body):
    return client.post(f"{APP}/campaigns", headers=headers, json={"templateId": template_id, "tags": ["vip"], **body})


def test_editors_write_templates_and_viewers_only_read_them(cp_client, manager_token, editor):
    viewer = manager_token("viewer", BRAND)
    assert create(cp_client, viewer).status_code == 403
    created = create(cp_client, editor)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    template = created.json()
    assert template["status"] == "draft" and template["version"] == 1 and template["text"] == TEXT
    path = f"{TEMPLATES}/{template['id']}"
    assert cp_client.get(path, headers=viewer).json() == template
    published_template(cp_client, editor, name="Summer")
    listed = cp_client.get(TEMPLATES, headers=viewer, params={"status": "draft"}).json()
    assert [item["name"] for item in listed["items"]] == ["Spring 2030"]
    assert len(cp_client.get(TEMPLATES, headers=viewer).json()["items"]) == 2
    assert cp_client.patch(path, headers=viewer, json={"version": 1, "name": "x"}).status_code == 403
    assert cp_client.post(f"{path}/archive", headers=viewer).status_code == 403


def test_another_brands_manager_sees_no_template(cp_client, container, manager_token, editor):
    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": "other", "name": "Other", "allowedDomains": ["other.example"]}))
    template = create(cp_client, editor).json()
    theirs = manager_token("admin", "other")
    assert cp_client.get(f"{TEMPLATES}/{template['id']}", headers=theirs).status_code == 404
    assert cp_client.get(f"/api/v1/manager/brands/other/email-templates/{template['id']}",
                         headers=theirs).status_code == 404


def test_updates_need_the_current_version_so_no_edit_is_lost(cp_client, editor):
    path = f"{TEMPLATES}/{create(cp_client, editor).json()['id']}"
    first = cp_client.patch(path, headers={**editor, "If-Match": '"1"'}, json={"name": "Spring (v2)"})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"' and first.json()["name"] == "Spring (v2)"
    stale = cp_client.patch(path, headers={**editor, "If-Match": '"1"'}, json={"name": "lost"})
    assert stale.status_code == 412
    assert cp_client.patch(path, headers=editor, json={"name": "blind"}).status_code == 428
    by_body = cp_client.patch(path, headers=editor, json={"version": 2, "status": "published"})
    assert by_body.status_code == 200 and by_body.json()["status"] == "published"
    assert cp_client.get(path, headers=editor).json()["name"] == "Spring (v2)"


@pytest.mark.parametrize(("changes", "field"), [
    ({"text": "Hi {{lastName}}"}, "text"),
    ({"title": "For {{email}}"}, "title"),
    ({"text": "Hi {{firstName"}, "text"),
    ({"link": "https://evil.example/x"}, "link"),
    ({"link": "http://shop.acme.example/x"}, "link"),
    ({"status": "archived"}, "status"),
    ({"locale": "french"}, "locale"),
])
def test_bad_templates_are_refused_naming_the_field(cp_client, editor, changes, field):
    answer = create(cp_client, editor, **changes)
    assert answer.status_code == 422 and field in [error["field"] for error in answer.json()["errors"]]
    assert cp_client.get(TEMPLATES, headers=editor).json()["items"] == []


def test_a_bad_placeholder_in_an_update_changes_nothing(cp_client, editor):
    path = f"{TEMPLATES}/{create(cp_client, editor).json()['id']}"
    answer = cp_client.patch(path, headers={**editor, "If-Match": '"1"'}, json={"text": "Dear {{ lastName }}"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "text"
    assert cp_client.get(path, headers=editor).json()["text"] == TEXT


def test_a_campaign_from_a_template_reaches_only_opted_in_contacts_personalised(cp_client, container, members,
                                                                                  editor):
    template = published_template(cp_client, editor)
    create(cp_client, editor, name="Draft")  # not offered
    zoe = new_contact(container, "zoe@example.com")
    new_contact(container, "max@example.com", source=ContactSource.MANUAL)  # never invited
    new_contact(container, "ann@example.com", member_id="m2")

    offered = cp_client.get(f"{APP}/email-templates", headers=members["m1"]).json()["items"]
    assert [(item["id"], item["version"]) for item in offered] == [(template["id"], 1)]
    assert "name" not in offered[0]

    answer = send(cp_client, members["m1"], template["id"], id="tc1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "tc1", "selected": 2, "sent": 1, "skipped": {"not_opted_in": 1}}
    [mail] = outbox(container)
    assert mail["toEmail"] == "zoe@example.com" and mail["messageId"] == f"campaign:tc1:{zoe.id}"
    assert mail["locale"] == "fr" and "Printemps Zoe" in mail["subject"]
    assert "Hello Zoe, our spring pieces are in. Ana Lopes" in mail["text"] and LINK in mail["text"]
    assert "{{" not in mail["text"] and "List-Unsubscribe" in mail["headers"]
    record = container.store.for_brand(BRAND).get("campaigns", "tc1")
    assert (record["templateId"], record["templateVersion"], record["sent"]) == (template["id"], 1, 1)


def test_the_members_signature_fills_the_placeholder(cp_client, container, members, editor):
    template = published_template(cp_client, editor)
    new_contact(container, "zoe@example.com")
    assert send(cp_client, members["m1"], template["id"], signature="Ana, your stylist").status_code == 200
    assert "are in. Ana, your stylist" in outbox(container)[0]["text"]


@pytest.mark.parametrize(("extra", "fields"), [
    ({"title": "Mine"}, ["templateId"]),
    ({"templateId": None}, ["title", "text", "link"]),
])
def test_a_campaign_takes_a_template_or_its_own_content_not_both(cp_client, container, members, editor, extra,
                                                                  fields):
    template = published_template(cp_client, editor)
    new_contact(container, "zoe@example.com")
    answer = send(cp_client, members["m1"], template["id"], **extra)
    assert answer.status_code == 422 and [error["field"] for error in answer.json()["errors"]] == fields
    assert outbox(container) == []


def test_archived_draft_and_foreign_templates_cannot_be_sent(cp_client, container, members, editor,
                                                             manager_token):
    sent = published_template(cp_client, editor)
    new_contact(container, "zoe@example.com")
    first = send(cp_client, members["m1"], sent["id"], id="tc2").json()
    assert len(outbox(container)) == 1
    archived = cp_client.post(f"{TEMPLATES}/{sent['id']}/archive", headers=editor)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert cp_client.post(f"{TEMPLATES}/{sent['id']}/archive", headers=editor).status_code == 200  # idempotent
    assert cp_client.patch(f"{TEMPLATES}/{sent['id']}", headers=editor,
                           json={"version": 2, "name": "again"}).status_code == 409
    assert cp_client.get(f"{APP}/email-templates", headers=members["m1"]).json()["items"] == []

    refused = send(cp_client, members["m1"], sent["id"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "templateId"
    # The campaign already sent keeps its record and counts (a re-post answers them, sending nothing).
    assert send(cp_client, members["m1"], sent["id"], id="tc2").json() == first

    draft = create(cp_client, editor).json()
    assert send(cp_client, members["m1"], draft["id"]).status_code == 404
    brands.create(store=container.store, clock=container.clock, data=BrandCreate.model_validate(
        {"id": "other", "name": "Other", "allowedDomains": ["acme.example"]}))
    foreign = cp_client.post("/api/v1/manager/brands/other/email-templates", headers=manager_token("editor", "other"),
                             json={**BODY, "status": "published"}).json()
    assert send(cp_client, members["m1"], foreign["id"]).status_code == 404
    assert send(cp_client, members["m1"], "et-unknown").status_code == 404
    assert len(outbox(container)) == 1  # the outbox keeps every mail: still only the first campaign's

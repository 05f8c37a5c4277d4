"""The Manager sees the brand's conversations to moderate them, page by page, and may remove a message's
content; a person's export holds their own messages; an erased visitor's name and email_tmp go."""

from __future__ import annotations

from shared.gdpr import erasure, subject_export
from tests.conversations.conftest import APP, BRAND, OTHER, WIDGET
from tests.conversations.test_media_messages import jpeg
from tests.conversations.test_metrics import picked_up_conversation, post, tick

MANAGER = f"/api/v1/manager/brands/{BRAND}/conversations"


def chatted(chat):
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    post(chat, APP, member, conversation, "member-0001", text="Hello, how can I help?")
    tick(chat, seconds=2)
    post(chat, WIDGET, visitor, conversation, "visitor-0001", text="Something rude")
    return member, visitor, conversation


def test_the_manager_reads_conversations_page_by_page_and_removes_a_message(chat, manager_token):
    member, visitor, conversation = chatted(chat)
    viewer, editor = manager_token("viewer", BRAND), manager_token("editor", BRAND)
    listed = chat.client.get(MANAGER, headers=viewer).json()["items"]
    assert [(item["id"], item["messageCount"]) for item in listed] == [(conversation, 2)]
    assert chat.client.get(MANAGER, headers=viewer, params={"memberId": "m9"}).json()["items"] == []
    page = chat.client.get(f"{MANAGER}/{conversation}/messages", headers=viewer).json()["items"]
    rude = page[-1]
    assert rude["text"] == "Something rude"
    assert chat.client.delete(f"{MANAGER}/{conversation}/messages/{rude['id']}", headers=viewer).status_code == 403
    assert chat.client.delete(f"{MANAGER}/{conversation}/messages/{rude['id']}", headers=editor).status_code == 204
    assert chat.client.delete(f"{MANAGER}/{conversation}/messages/{rude['id']}", headers=editor).status_code == 204
    seen = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()["items"][-1]
    assert seen["id"] == rude["id"] and seen["text"] is None and seen["removedAt"]
    assert chat.client.delete(f"{MANAGER}/{conversation}/messages/nope", headers=editor).status_code == 404
    # Another brand's Manager sees nothing of it.
    foreign = f"/api/v1/manager/brands/{OTHER}/conversations/{conversation}/messages"
    assert chat.client.get(foreign, headers=manager_token("viewer", OTHER)).status_code == 404


def test_a_persons_export_holds_their_own_messages_only(chat):
    member, visitor, conversation = chatted(chat)
    store = chat.container.store.for_brand(BRAND)
    mine = subject_export.member_export(store=store, blobs=chat.container.blobs, member_id="m1",
                                        subject_hash="h" * 64, now=chat.container.clock.now())
    assert [message["text"] for message in mine["messages"]] == ["Hello, how can I help?"]
    visitor_id = chat.client.get(f"{WIDGET}/visitors/me", headers=visitor).json()["id"]
    theirs = subject_export.visitor_export(store=store, visitor_id=visitor_id, subject_hash="h" * 64,
                                           now=chat.container.clock.now())
    assert [message["text"] for message in theirs["messages"]] == ["Something rude"]
    assert theirs["messages"][0]["conversationId"] == conversation


def test_an_erased_visitor_keeps_no_name_nor_email_tmp_and_their_uploads_go(chat):
    visitor = chat.visitor()
    chat.client.patch(f"{WIDGET}/visitors/me", headers=visitor,
                      json={"firstName": "Zoé", "emailTmp": "zoe@example.com",
                            "emailTmpPurpose": "conversation_notification"})
    visitor_id = chat.client.get(f"{WIDGET}/visitors/me", headers=visitor).json()["id"]
    photo = chat.client.post(f"{WIDGET}/conversations/media", headers={**visitor, "Content-Type": "image/jpeg"},
                             content=jpeg())
    assert photo.status_code == 201, photo.text
    store = chat.container.store.for_brand(BRAND)
    erased = erasure.erase_visitor(store=store, blobs=chat.container.blobs, hasher=chat.container.hasher(BRAND),
                                   visitor_id=visitor_id, now=chat.container.clock.now(), rule="request")
    assert (erased.first_name, erased.email_tmp, erased.status) == (None, None, "erased")
    assert chat.client.get(photo.json()["url"]).status_code == 404  # the file is gone
    assert store.find("conversation_media", photo.json()["mediaId"]) is None

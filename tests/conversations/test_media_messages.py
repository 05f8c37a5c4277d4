"""Photos and videos in messages: an upload of the author's, used by one message, which both parties read with
a freshly signed link to the file."""

from __future__ import annotations

import io

from PIL import Image

from tests.conversations.conftest import APP, WIDGET
from tests.conversations.test_metrics import picked_up_conversation


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def upload(chat, base, headers) -> dict:
    answer = chat.client.post(f"{base}/conversations/media", headers={**headers, "Content-Type": "image/jpeg"},
                              content=jpeg())
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_photo_message_is_read_by_both_parties_with_a_signed_link(chat):
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    photo = upload(chat, APP, member)
    sent = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "photo-0001", "kind": "photo", "mediaId": photo["mediaId"], "text": "The red one"})
    assert sent.status_code == 201, sent.text
    media = sent.json()["media"]
    assert (media["mediaId"], media["kind"], media["contentType"], media["width"]) == (
        photo["mediaId"], "photo", "image/jpeg", 64)
    seen = chat.client.get(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor).json()["items"][-1]
    assert seen["media"]["url"] and seen["text"] == "The red one"
    # The conversation's other party may read the upload once a message holds it; nobody else.
    assert chat.client.get(f"{WIDGET}/conversations/media/{photo['mediaId']}", headers=visitor).status_code == 200
    assert chat.client.get(f"{WIDGET}/conversations/media/{photo['mediaId']}",
                           headers=chat.visitor()).status_code == 404
    file = chat.client.get(seen["media"]["url"])
    assert file.status_code == 200 and file.content[:3] == b"\xff\xd8\xff"
    # One message per upload; a retry of the same message lands once.
    again = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "photo-0001", "kind": "photo", "mediaId": photo["mediaId"], "text": "The red one"})
    assert again.status_code == 201 and again.json()["id"] == sent.json()["id"]
    reused = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "photo-0002", "kind": "photo", "mediaId": photo["mediaId"]})
    assert reused.status_code == 409


def test_only_the_authors_own_upload_of_the_right_kind(chat):
    member, visitor = chat.member(), chat.visitor()
    conversation = picked_up_conversation(chat, member, visitor)
    photo = upload(chat, APP, member)
    stolen = chat.client.post(f"{WIDGET}/conversations/{conversation}/messages", headers=visitor, json={
        "clientMessageId": "photo-0003", "kind": "photo", "mediaId": photo["mediaId"]})
    assert stolen.status_code == 404
    wrong = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "video-0001", "kind": "video", "mediaId": photo["mediaId"]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "mediaId"
    right = chat.client.post(f"{APP}/conversations/{conversation}/messages", headers=member, json={
        "clientMessageId": "photo-0004", "kind": "photo", "mediaId": photo["mediaId"]})
    assert right.status_code == 201  # the refused message claimed nothing


def jpeg_with_location() -> bytes:
    """A photo as a phone takes it: EXIF with GPS coordinates and an orientation (rotated 90°)."""
    image = Image.new("RGB", (80, 40), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (45.0, 45.0, 36.0), 3: "E", 4: (4.0, 50.0, 24.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_photo_is_stored_re_encoded_without_exif_or_gps_its_orientation_applied(chat):
    member = chat.member()
    raw = jpeg_with_location()
    assert b"PhoneMaker" in raw
    answer = chat.client.post(f"{APP}/conversations/media", headers={**member, "Content-Type": "image/jpeg"},
                              content=raw)
    assert answer.status_code == 201, answer.text
    stored = chat.client.get(answer.json()["url"]).content
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {} and image.size == (40, 80)  # turned upright, nothing left to turn


def test_a_file_that_is_not_the_type_it_says_is_refused(chat):
    member = chat.member()
    html = chat.client.post(f"{APP}/conversations/media", headers={**member, "Content-Type": "image/jpeg"},
                            content=b"<html><script>alert(1)</script></html>")
    assert html.status_code == 422 and html.headers["content-type"] == "application/problem+json"
    other = chat.client.post(f"{APP}/conversations/media", headers={**member, "Content-Type": "application/pdf"},
                             content=b"%PDF-1.4")
    assert other.status_code == 415

"""The mailer port's adapters: the disk outbox, and the Mailjet Send API v3.1 client."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from shared.adapters.mailjet_mailer import MAX_MESSAGES_PER_CALL, MailjetMailer, build_payloads
from shared.adapters.outbox_mailer import OutboxMailer
from shared.config import Settings
from shared.errors import NotFound
from shared.ports.mailer import InlineImage, RenderedEmail

SCHEMA_PATH = Path(__file__).parent / "schemas" / "mailjet_send_v31.schema.json"
MAILJET_URL = "https://api.mailjet.test/v3.1/send"


def email(n: int = 1, *, brand_id: str = "brand-a", **changes) -> RenderedEmail:
    values = {
        "message_id": f"msg-{n:04d}",
        "brand_id": brand_id,
        "to_email": f"member{n}@example.com",
        "to_name": f"Member {n}",
        "from_email": "no-reply@brand-a.example",
        "from_name": "Brand A",
        "subject": f"Welcome {n}",
        "text": "Hello",
        "html": "<p>Hello</p>",
        "template": "welcome",
        "locale": "fr",
        "headers": {"List-Unsubscribe": "<https://brand-a.example/u>"},
    }
    values.update(changes)
    return RenderedEmail(**values)


# -- outbox ---------------------------------------------------------------------------------------


@pytest.fixture
def outbox(tmp_path, clock) -> OutboxMailer:
    return OutboxMailer(tmp_path / "outbox", clock=clock)


def test_outbox_writes_one_json_file_per_email_under_its_brand(outbox, tmp_path, clock):
    results = outbox.send([email(1), email(2, brand_id="brand-b")])

    assert [(r.message_id, r.accepted, r.retryable) for r in results] == [
        ("msg-0001", True, False),
        ("msg-0002", True, False),
    ]
    files = sorted(p.relative_to(tmp_path / "outbox").as_posix() for p in (tmp_path / "outbox").glob("*/*.json"))
    assert files == ["brand-a/20300101T090000000000Z-msg-0001.json", "brand-b/20300101T090000000000Z-msg-0002.json"]
    document = json.loads((tmp_path / "outbox" / files[0]).read_text())
    assert document["messageId"] == "msg-0001"
    assert document["toEmail"] == "member1@example.com"
    assert document["html"] == "<p>Hello</p>"
    assert document["headers"] == {"List-Unsubscribe": "<https://brand-a.example/u>"}
    assert document["sentAt"] == "2030-01-01T09:00:00Z"


def test_outbox_is_idempotent_per_message_id(outbox, tmp_path, clock):
    first = outbox.send([email(1)])
    clock.advance(timedelta(minutes=5))
    second = outbox.send([email(1, subject="changed")])

    assert first[0].accepted and second[0].accepted
    assert first[0].provider_id == second[0].provider_id
    assert len(list((tmp_path / "outbox").glob("*/*.json"))) == 1
    assert outbox.get("msg-0001")["subject"] == "Welcome 1"


def test_outbox_lists_newest_first_with_brand_filter_and_limit(outbox, clock):
    outbox.send([email(1)])
    clock.advance(timedelta(minutes=1))
    outbox.send([email(2, brand_id="brand-b")])
    clock.advance(timedelta(minutes=1))
    outbox.send([email(3)])

    assert [d["messageId"] for d in outbox.list()] == ["msg-0003", "msg-0002", "msg-0001"]
    assert [d["messageId"] for d in outbox.list("brand-a")] == ["msg-0003", "msg-0001"]
    assert [d["messageId"] for d in outbox.list(limit=2)] == ["msg-0003", "msg-0002"]
    assert outbox.list("brand-unknown") == []


def test_outbox_get_of_an_unknown_message_is_not_found(outbox):
    with pytest.raises(NotFound):
        outbox.get("never-sent")


def test_outbox_keeps_odd_ids_inside_its_folder(outbox, tmp_path):
    outbox.send([email(1, message_id="../../escape", brand_id="../evil")])
    assert not (tmp_path / "escape.json").exists()
    assert all(p.is_relative_to(tmp_path / "outbox") for p in tmp_path.rglob("*.json"))
    assert outbox.get("../../escape")["brandId"] == "../evil"


def test_outbox_survives_a_new_instance(outbox, tmp_path, clock):
    outbox.send([email(1)])
    reopened = OutboxMailer(tmp_path / "outbox", clock=clock)
    assert reopened.send([email(1)])[0].accepted
    assert [d["messageId"] for d in reopened.list()] == ["msg-0001"]


# -- Mailjet --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def send_schema() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def mailjet_settings() -> Settings:
    return Settings(
        mailer="mailjet", mailjet_api_key="public-key", mailjet_api_secret="private-key", mailjet_url=MAILJET_URL
    )


def success_for(body: dict) -> dict:
    """The documented v3.1 success response for a request body."""
    return {
        "Messages": [
            {
                "Status": "success",
                "CustomID": message["CustomID"],
                "To": [
                    {
                        "Email": message["To"][0]["Email"],
                        "MessageUUID": f"uuid-{message['CustomID']}",
                        "MessageID": 576460754655154600 + i,
                        "MessageHref": f"https://api.mailjet.com/v3/REST/message/{576460754655154600 + i}",
                    }
                ],
                "Cc": [],
                "Bcc": [],
            }
            for i, message in enumerate(body["Messages"])
        ]
    }


class Recorder:
    """The network edge: records each request and answers with `respond(body) -> httpx.Response`."""

    def __init__(self, respond) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(json.loads(request.content))

    def mailer(self) -> MailjetMailer:
        return MailjetMailer(mailjet_settings(), transport=httpx.MockTransport(self))


def test_120_emails_go_out_in_three_schema_valid_calls_of_at_most_50(send_schema):
    recorder = Recorder(lambda body: httpx.Response(200, json=success_for(body)))
    emails = [email(n) for n in range(120)]

    results = recorder.mailer().send(emails)

    assert MAX_MESSAGES_PER_CALL == 50
    assert [len(json.loads(r.content)["Messages"]) for r in recorder.requests] == [50, 50, 20]
    for request in recorder.requests:
        send_schema.validate(json.loads(request.content))
        assert request.method == "POST"
        assert str(request.url) == MAILJET_URL
        assert request.headers["authorization"] == "Basic " + base64.b64encode(b"public-key:private-key").decode()
        assert request.headers["content-type"] == "application/json"
    assert [r.message_id for r in results] == [e.message_id for e in emails]
    assert all(r.accepted and not r.retryable for r in results)
    assert results[0].provider_id == "576460754655154600"
    assert results[50].provider_id == "576460754655154600"


def test_payload_carries_the_documented_fields(send_schema):
    (payload,) = build_payloads([email(7), email(8, to_name=None, headers={})])
    send_schema.validate(payload)
    first, second = payload["Messages"]
    assert first == {
        "From": {"Email": "no-reply@brand-a.example", "Name": "Brand A"},
        "To": [{"Email": "member7@example.com", "Name": "Member 7"}],
        "Subject": "Welcome 7",
        "TextPart": "Hello",
        "HTMLPart": "<p>Hello</p>",
        "CustomID": "msg-0007",
        "Headers": {"List-Unsubscribe": "<https://brand-a.example/u>"},
    }
    assert second["To"] == [{"Email": "member8@example.com"}]
    assert "Headers" not in second


def test_an_inline_image_goes_as_an_inlined_attachment_named_by_its_content_id(send_schema):
    image = InlineImage(content_id="voucher-qr", content_type="image/png", filename="voucher.png",
                        base64_content="iVBORw0KGgo=")
    (payload,) = build_payloads([email(7, html='<img src="cid:voucher-qr">', inline_images=(image,))])
    send_schema.validate(payload)
    assert payload["Messages"][0]["InlinedAttachments"] == [
        {"ContentType": "image/png", "Filename": "voucher.png", "ContentID": "voucher-qr",
         "Base64Content": "iVBORw0KGgo="}]
    assert "InlinedAttachments" not in build_payloads([email(8)])[0]["Messages"][0]


def test_the_schema_refuses_what_the_provider_would(send_schema):
    (good,) = build_payloads([email(1)])
    too_many = {"Messages": [good["Messages"][0]] * 51}
    misspelt = {"Messages": [{**good["Messages"][0], "HtmlPart": "<p>x</p>"}]}
    no_content = {"Messages": [{k: v for k, v in good["Messages"][0].items() if k not in ("TextPart", "HTMLPart")}]}
    no_recipient = {"Messages": [{**good["Messages"][0], "To": []}]}
    bad_address = {"Messages": [{**good["Messages"][0], "From": {"Name": "x"}}]}
    for body in (too_many, misspelt, no_content, no_recipient, bad_address, {"Messages": []}, {}):
        assert not send_schema.is_valid(body), body


def test_a_per_message_error_fails_only_that_email_and_is_not_retryable():
    def respond(body: dict) -> httpx.Response:
        answer = success_for(body)
        answer["Messages"][1] = {
            "Status": "error",
            "Errors": [
                {
                    "ErrorIdentifier": "f987008f-251a-4dff-8ffc-40f1583ad7bc",
                    "ErrorCode": "mj-0013",
                    "StatusCode": 400,
                    "ErrorMessage": '"member1@example.com" is an invalid email address.',
                    "ErrorRelatedTo": ["To[0].Email"],
                }
            ],
        }
        return httpx.Response(400, json=answer)

    results = Recorder(respond).mailer().send([email(0), email(1), email(2)])

    assert [r.accepted for r in results] == [True, False, True]
    refused = results[1]
    assert (refused.message_id, refused.retryable, refused.provider_id) == ("msg-0001", False, None)
    assert "mj-0013" in refused.error and "To[0].Email" in refused.error
    assert "@" not in refused.error  # the provider's text quotes the address; ours does not


def test_a_per_message_server_error_is_retryable():
    def respond(body: dict) -> httpx.Response:
        error = {"ErrorIdentifier": "x", "ErrorCode": "mj-0000", "StatusCode": 500, "ErrorRelatedTo": []}
        return httpx.Response(400, json={"Messages": [{"Status": "error", "Errors": [error]}]})

    (result,) = Recorder(respond).mailer().send([email(1)])
    assert (result.accepted, result.retryable) == (False, True)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_retryable_for_the_whole_batch(status):
    answer = {"ErrorIdentifier": "D4DF574C-0C5F-45C7-BA52-7AA8E533C3DE", "StatusCode": status, "ErrorMessage": "x"}
    results = Recorder(lambda body: httpx.Response(status, json=answer)).mailer().send([email(1), email(2)])
    assert [(r.accepted, r.retryable) for r in results] == [(False, True), (False, True)]
    assert all(r.error == f"http {status}" for r in results)


def test_a_failed_batch_does_not_hide_the_results_of_the_next():
    calls = iter([httpx.Response(503), None])

    def respond(body: dict) -> httpx.Response:
        answer = next(calls)
        return answer if answer is not None else httpx.Response(200, json=success_for(body))

    results = Recorder(respond).mailer().send([email(n) for n in range(60)])
    assert [r.accepted for r in results] == [False] * 50 + [True] * 10
    assert all(r.retryable for r in results[:50])


def test_network_errors_are_retryable():
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    mailer = MailjetMailer(mailjet_settings(), transport=httpx.MockTransport(broken))
    (result,) = mailer.send([email(1)])
    assert (result.accepted, result.retryable, result.error) == (False, True, "network error: ConnectTimeout")


def test_a_malformed_request_is_not_retryable_but_a_refused_account_is():
    malformed = {"ErrorIdentifier": "x", "ErrorCode": "mj-0003", "StatusCode": 400, "ErrorMessage": "Malformed JSON"}
    (bad,) = Recorder(lambda body: httpx.Response(400, json=malformed)).mailer().send([email(1)])
    assert (bad.accepted, bad.retryable, bad.error) == (False, False, "http 400 mj-0003")

    unauthorized = {"ErrorIdentifier": "x", "StatusCode": 401, "ErrorMessage": "API key authentication failure."}
    (locked,) = Recorder(lambda body: httpx.Response(401, json=unauthorized)).mailer().send([email(1)])
    assert (locked.accepted, locked.retryable) == (False, True)


def test_nothing_is_sent_for_no_emails():
    recorder = Recorder(lambda body: httpx.Response(200, json=success_for(body)))
    assert recorder.mailer().send([]) == []
    assert recorder.requests == []


def test_mailjet_needs_its_keys():
    with pytest.raises(ValueError):
        MailjetMailer(Settings(mailer="mailjet"))


def test_mailer_logs_carry_message_ids_but_no_addresses_or_content(caplog, outbox):
    def respond(body: dict) -> httpx.Response:
        answer = success_for(body)
        answer["Messages"][0] = {
            "Status": "error",
            "Errors": [{"ErrorCode": "mj-0013", "StatusCode": 400, "ErrorMessage": '"member0@example.com" is invalid'}],
        }
        return httpx.Response(400, json=answer)

    with caplog.at_level(logging.DEBUG):
        Recorder(respond).mailer().send([email(0), email(1)])
        Recorder(lambda body: httpx.Response(500)).mailer().send([email(2)])
        outbox.send([email(3)])

    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("shared."))
    assert "msg-0000" in logged and "msg-0003" in logged
    for secret in ("@example.com", "Member ", "Welcome", "Hello"):
        assert secret not in logged

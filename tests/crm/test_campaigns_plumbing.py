"""The email pipeline extras campaigns rely on: headers, event payload and contact id carried to the provider."""

from __future__ import annotations

from shared.adapters.mailjet_mailer import build_message
from shared.emails.models import EmailRequested
from shared.emails.service import enqueue_email
from shared.ports.mailer import RenderedEmail
from tests.builders import deliver_emails


def _email(**extra) -> RenderedEmail:
    return RenderedEmail(message_id="m-1", brand_id="acme", to_email="zoe@example.com", to_name=None,
                         from_email="no-reply@example.com", from_name="Acme", subject="Hi", text="t", html="<p>t</p>",
                         template="test_email", locale="en", **extra)


def test_mailjet_gets_the_event_payload_only_when_set():
    assert "EventPayload" not in build_message(_email())
    message = build_message(_email(event_payload='{"brandId":"acme"}', headers={"List-Unsubscribe": "<https://x>"}))
    assert message["EventPayload"] == '{"brandId":"acme"}' and message["Headers"] == {"List-Unsubscribe": "<https://x>"}


def test_a_plain_email_message_keeps_its_former_body():
    body = EmailRequested(brand_id="acme", template="test_email", locale="en", to_email="zoe@example.com").to_body()
    assert set(body) == {"version", "brandId", "template", "locale", "toEmail", "toName", "data"}


def test_headers_payload_and_contact_id_reach_the_outbox_and_the_record(container):
    enqueue_email(bus=container.bus, brand_id="acme", template="test_email", to_email="zoe@example.com",
                  data={"rights_url": "https://app.example/contacts/acme/rights"}, message_id="extras-1",
                  settings=container.settings, headers={"List-Unsubscribe": "<https://u>"},
                  event_payload='{"brandId":"acme","contactId":"ct-1"}', contact_id="ct-1")
    deliver_emails(container)
    mail = container.mailer.get("extras-1")
    assert mail["headers"] == {"List-Unsubscribe": "<https://u>"}
    assert mail["eventPayload"] == '{"brandId":"acme","contactId":"ct-1"}'
    assert container.store.for_brand("acme").get("emails", "extras-1")["contactId"] == "ct-1"

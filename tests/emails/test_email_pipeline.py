"""The email pipeline end to end on the embedded default: enqueue → queue → worker → outbox."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from popsell.registry import queue_handlers
from shared.adapters.outbox_mailer import OutboxMailer
from shared.adapters.sqlite_bus import REASON_MAX_DELIVERY, SqliteMessageBus
from shared.adapters.sqlite_store import SqliteDocumentStore
from shared.config import Settings
from shared.emails.models import EMAILS_CONTAINER
from shared.emails.render import (
    UnknownTemplate,
    available_locales,
    available_templates,
    render_email,
    sample_data,
)
from shared.emails.service import SEND_CLAIM, email_record_id, enqueue_email, handle_email_message
from shared.errors import InvalidInput, PermanentError, TransientError
from shared.messaging import worker
from shared.ports.bus import QUEUE_EMAILS, ReceivedMessage
from shared.ports.mailer import Mailer, RenderedEmail, SendResult

BRAND = "acme"
ADDRESS = "jane.doe@example.com"
SHIPPED = ("test_email", "email_verification", "password_reset", "manager_invitation", "retention_warning")


@pytest.fixture
def settings(tmp_path):
    return Settings(env="test", data_dir=tmp_path, privacy_policy_url="https://popsell.example/privacy")


@pytest.fixture
def store(tmp_path):
    store = SqliteDocumentStore(tmp_path / "store.sqlite3")
    store.ensure_schema()
    yield store
    store.close()


@pytest.fixture
def bus(tmp_path, clock):
    bus = SqliteMessageBus(tmp_path / "queue.sqlite3", clock=clock, max_delivery_count=3)
    yield bus
    bus.close()


@pytest.fixture
def outbox(tmp_path, clock):
    return OutboxMailer(tmp_path / "outbox", clock=clock)


class FailingMailer(Mailer):
    """A provider that refuses every email (retryable or not); counts the attempts."""

    def __init__(self, *, retryable: bool) -> None:
        self.retryable = retryable
        self.attempts = 0

    def send(self, emails: list[RenderedEmail]) -> list[SendResult]:
        self.attempts += len(emails)
        return [
            SendResult(e.message_id, None, accepted=False, error=f"refused {e.to_email}", retryable=self.retryable)
            for e in emails
        ]


class CrashAfterSendMailer(Mailer):
    """Hands the email to the real mailer, then the process dies before the handler records it."""

    def __init__(self, inner: Mailer) -> None:
        self.inner = inner

    def send(self, emails: list[RenderedEmail]) -> list[SendResult]:
        self.inner.send(emails)
        raise SystemExit("worker killed mid-send")


def handler_for(*, store, mailer, settings, clock):
    def handler(message: ReceivedMessage) -> None:
        handle_email_message(message, store=store, mailer=mailer, settings=settings, clock=clock)

    return handler


def enqueue(bus, settings, **kwargs):
    arguments = {
        "bus": bus,
        "brand_id": BRAND,
        "template": "email_verification",
        "to_email": ADDRESS,
        "to_name": "Jane",
        "data": {"verify_url": "https://app.example/verify?t=1", "expires_in_hours": 48},
        "message_id": "verify:m1:t1",
        "settings": settings,
    }
    return enqueue_email(**{**arguments, **kwargs})


def test_an_enqueued_email_lands_once_in_the_outbox(bus, store, outbox, settings, clock):
    message_id = enqueue(bus, settings)

    handler = handler_for(store=store, mailer=outbox, settings=settings, clock=clock)
    assert worker.process_once(bus, QUEUE_EMAILS, handler) == 1

    [email] = outbox.list(BRAND)
    assert email["messageId"] == message_id == "verify:m1:t1"
    assert email["toEmail"] == ADDRESS
    assert email["subject"] == "Confirm your email address for Popsell"
    assert "https://app.example/verify?t=1" in email["text"]
    assert store.for_brand(BRAND).get(EMAILS_CONTAINER, message_id)["status"] == "sent"


def test_an_enqueue_without_an_id_gets_a_fresh_one(bus, settings):
    first = enqueue(bus, settings, message_id=None)
    second = enqueue(bus, settings, message_id=None)

    assert first != second
    assert len(bus.receive(QUEUE_EMAILS)) == 2


def test_the_same_message_delivered_twice_is_sent_once(bus, store, outbox, settings, clock):
    enqueue(bus, settings)
    [message] = bus.receive(QUEUE_EMAILS)
    deps = {"store": store, "mailer": outbox, "settings": settings, "clock": clock}

    assert handle_email_message(message, **deps) == "sent"
    assert handle_email_message(message, **deps) == "duplicate"

    assert len(outbox.list(BRAND)) == 1


def test_the_same_email_enqueued_again_after_the_duplicate_window_is_sent_once(bus, store, outbox, settings, clock):
    handler = handler_for(store=store, mailer=outbox, settings=settings, clock=clock)
    enqueue(bus, settings)
    worker.process_once(bus, QUEUE_EMAILS, handler)

    clock.advance(timedelta(hours=1))  # past the bus' duplicate detection: the bus delivers it again
    enqueue(bus, settings)
    assert worker.process_once(bus, QUEUE_EMAILS, handler) == 1

    assert len(outbox.list(BRAND)) == 1


def test_a_delivery_that_died_mid_send_is_redelivered_and_still_sent_once(bus, store, outbox, settings, clock):
    enqueue(bus, settings)
    crashing = handler_for(store=store, mailer=CrashAfterSendMailer(outbox), settings=settings, clock=clock)
    with pytest.raises(SystemExit):
        worker.process_once(bus, QUEUE_EMAILS, crashing)
    assert store.for_brand(BRAND).get(EMAILS_CONTAINER, "verify:m1:t1")["status"] == "sending"

    clock.advance(timedelta(seconds=60))  # the dead worker's lock expires: the bus delivers again
    handler = handler_for(store=store, mailer=outbox, settings=settings, clock=clock)
    assert worker.process_once(bus, QUEUE_EMAILS, handler) == 1

    assert len(outbox.list(BRAND)) == 1
    record = store.for_brand(BRAND).get(EMAILS_CONTAINER, "verify:m1:t1")
    assert (record["status"], record["attempts"]) == ("sent", 2)
    assert bus.dead_letters(QUEUE_EMAILS) == []


def test_a_delivery_meeting_a_live_claim_backs_off_without_sending(bus, store, outbox, settings, clock):
    enqueue(bus, settings)
    [message] = bus.receive(QUEUE_EMAILS)
    with pytest.raises(SystemExit):
        handle_email_message(message, store=store, mailer=CrashAfterSendMailer(outbox), settings=settings, clock=clock)
    sends: list[RenderedEmail] = []

    class Recording(Mailer):
        def send(self, emails):
            sends.extend(emails)
            return outbox.send(emails)

    with pytest.raises(TransientError):
        handle_email_message(message, store=store, mailer=Recording(), settings=settings, clock=clock)
    assert sends == []

    clock.advance(SEND_CLAIM)
    assert handle_email_message(message, store=store, mailer=Recording(), settings=settings, clock=clock) == "sent"
    assert [e.message_id for e in sends] == ["verify:m1:t1"]  # the same id: the outbox keeps one
    assert len(outbox.list(BRAND)) == 1


def test_a_retryable_mailer_failure_is_retried_then_dead_lettered(bus, store, settings, clock):
    enqueue(bus, settings)
    mailer = FailingMailer(retryable=True)
    handler = handler_for(store=store, mailer=mailer, settings=settings, clock=clock)

    for _ in range(5):
        worker.process_once(bus, QUEUE_EMAILS, handler)

    assert mailer.attempts == 3  # max_delivery_count
    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert (dead.message_id, dead.dead_letter_reason) == ("verify:m1:t1", REASON_MAX_DELIVERY)
    assert store.for_brand(BRAND).get(EMAILS_CONTAINER, "verify:m1:t1")["status"] == "sending"


def test_a_refused_email_fails_once_and_is_never_sent_again(bus, store, settings, clock):
    enqueue(bus, settings)
    [message] = bus.receive(QUEUE_EMAILS)
    mailer = FailingMailer(retryable=False)
    deps = {"store": store, "mailer": mailer, "settings": settings, "clock": clock}

    with pytest.raises(PermanentError):
        handle_email_message(message, **deps)
    with pytest.raises(PermanentError):
        handle_email_message(message, **deps)  # the Functions host retries: nothing is sent again

    assert mailer.attempts == 1
    record = store.for_brand(BRAND).get(EMAILS_CONTAINER, "verify:m1:t1")
    assert record["status"] == "failed"


def test_the_worker_dead_letters_a_refused_email_at_once(bus, store, settings, clock):
    enqueue(bus, settings)

    refusing = handler_for(store=store, mailer=FailingMailer(retryable=False), settings=settings, clock=clock)
    worker.process_once(bus, QUEUE_EMAILS, refusing)

    [dead] = bus.dead_letters(QUEUE_EMAILS)
    assert dead.delivery_count == 1
    assert dead.dead_letter_reason.startswith("PermanentError")
    assert ADDRESS not in dead.dead_letter_reason


def test_the_email_record_holds_no_personal_data(bus, store, outbox, settings, clock):
    enqueue(bus, settings)
    worker.process_once(bus, QUEUE_EMAILS, handler_for(store=store, mailer=outbox, settings=settings, clock=clock))

    record = store.for_brand(BRAND).get(EMAILS_CONTAINER, "verify:m1:t1")
    assert set(record) - {"_etag"} <= {
        "id", "brandId", "status", "template", "locale", "createdAt", "attempts", "claimedUntil",
        "sentAt", "providerId", "ttl",
    }
    text = repr(record)
    for personal in (ADDRESS, "Jane", "verify?t=1"):
        assert personal not in text
    assert record["ttl"] > 0


def test_the_pipeline_logs_ids_never_addresses_or_content(bus, store, outbox, settings, clock, caplog):
    caplog.set_level(logging.DEBUG)
    enqueue(bus, settings)
    worker.process_once(bus, QUEUE_EMAILS, handler_for(store=store, mailer=outbox, settings=settings, clock=clock))
    enqueue(bus, settings, message_id="verify:m2:t2")
    refusing = handler_for(store=store, mailer=FailingMailer(retryable=False), settings=settings, clock=clock)
    worker.process_once(bus, QUEUE_EMAILS, refusing)

    assert "verify:m1:t1" in caplog.text
    for personal in (ADDRESS, "Jane", "verify?t=1"):
        assert personal not in caplog.text


def test_a_scheduled_email_is_not_sent_before_its_time(bus, store, outbox, settings, clock):
    handler = handler_for(store=store, mailer=outbox, settings=settings, clock=clock)
    enqueue(bus, settings, send_at=clock.now() + timedelta(days=1))

    assert worker.process_once(bus, QUEUE_EMAILS, handler) == 0
    clock.advance(timedelta(days=1))
    assert worker.process_once(bus, QUEUE_EMAILS, handler) == 1
    assert len(outbox.list(BRAND)) == 1


@pytest.mark.parametrize(("asked", "rendered", "subject"), [
    ("fr-FR", "fr", "Confirmez votre adresse e-mail pour Popsell"),
    ("fr_fr", "fr", "Confirmez votre adresse e-mail pour Popsell"),
    ("FR", "fr", "Confirmez votre adresse e-mail pour Popsell"),
    ("de-DE", "en", "Confirm your email address for Popsell"),
    ("en-GB", "en", "Confirm your email address for Popsell"),
])
def test_the_locale_falls_back_to_the_language_then_english(bus, store, outbox, settings, clock, asked, rendered,
                                                            subject):
    enqueue(bus, settings, locale=asked)
    worker.process_once(bus, QUEUE_EMAILS, handler_for(store=store, mailer=outbox, settings=settings, clock=clock))

    [email] = outbox.list(BRAND)
    assert (email["locale"], email["subject"]) == (rendered, subject)


def test_an_unknown_template_is_refused_at_enqueue(bus, settings):
    with pytest.raises(UnknownTemplate) as refused:
        enqueue(bus, settings, template="no_such_template")

    assert isinstance(refused.value, InvalidInput)
    assert bus.receive(QUEUE_EMAILS) == []


@pytest.mark.parametrize("template", ["../_layout", "_layout", "Test_Email", ""])
def test_template_names_cannot_reach_outside_the_templates(bus, settings, template):
    with pytest.raises(InvalidInput):
        enqueue(bus, settings, template=template)


def test_missing_template_data_is_refused_at_enqueue(bus, settings):
    with pytest.raises(InvalidInput) as refused:
        enqueue(bus, settings, data={"expires_in_hours": 48})

    assert "verify_url" in refused.value.detail
    assert bus.receive(QUEUE_EMAILS) == []


def test_an_invalid_address_is_refused_at_enqueue(bus, settings):
    with pytest.raises(InvalidInput):
        enqueue(bus, settings, to_email="not-an-address")


def test_a_malformed_message_is_permanent(store, outbox, settings, clock):
    message = ReceivedMessage(body={"brandId": BRAND, "template": "test_email"}, message_id="x", delivery_count=1)

    with pytest.raises(PermanentError):
        handle_email_message(message, store=store, mailer=outbox, settings=settings, clock=clock)


def test_a_message_for_a_template_no_longer_shipped_is_permanent(store, outbox, settings, clock):
    body = {"brandId": BRAND, "template": "retired", "locale": "en", "toEmail": ADDRESS, "data": {}}
    message = ReceivedMessage(body=body, message_id="x", delivery_count=1)

    with pytest.raises(PermanentError):
        handle_email_message(message, store=store, mailer=outbox, settings=settings, clock=clock)
    assert outbox.list() == []


def test_the_shipped_templates_exist_in_english_and_french():
    assert set(SHIPPED) <= set(available_templates())
    for template in available_templates():
        assert {"en", "fr"} <= set(available_locales(template))


@pytest.mark.parametrize(
    ("template", "locale"),
    [(template, locale) for template in available_templates() for locale in available_locales(template)],
)
def test_every_template_footer_links_the_privacy_policy_and_names_the_brand(settings, template, locale):
    for data, url in (
        (sample_data(template), settings.privacy_policy_url),
        ({**sample_data(template), "brand_name": "Acme & Co", "privacy_policy_url": "https://acme.example/privacy?x=1&y=2"},
         "https://acme.example/privacy?x=1&y=2"),
    ):
        email = render_email(message_id="m", brand_id=BRAND, template=template, locale=locale, to_email=ADDRESS,
                             to_name=None, data=data, settings=settings)
        html_footer = email.html.rsplit("<hr", 1)[1]
        text_footer = email.text.rsplit("\n--\n", 1)[1]
        assert f'href="{url.replace("&", "&amp;")}"' in html_footer
        assert url in text_footer
        brand = data.get("brand_name", settings.mail_from_name)
        assert brand.replace("&", "&amp;") in html_footer
        assert brand in text_footer
        assert email.subject and "\n" not in email.subject


def test_html_is_escaped_and_text_is_not(settings):
    email = render_email(message_id="m", brand_id=BRAND, template="test_email", locale="en", to_email=ADDRESS,
                         to_name="<b>Jane</b>", data={"note": "Tom & Jerry <script>"}, settings=settings)

    assert "&lt;b&gt;Jane&lt;/b&gt;" in email.html and "<script>" not in email.html
    assert "Hello <b>Jane</b>," in email.text and "Tom & Jerry <script>" in email.text


def test_a_privacy_link_that_is_not_a_web_page_is_refused(settings):
    with pytest.raises(InvalidInput):
        render_email(message_id="m", brand_id=BRAND, template="test_email", locale="en", to_email=ADDRESS,
                     to_name=None, data={"privacy_policy_url": "javascript:alert(1)"}, settings=settings)


def test_dates_are_written_in_the_email_language(settings):
    data = {"login_url": "https://app.example/login", "erase_on": "2030-03-01T00:00:00Z"}
    subjects = {
        locale: render_email(message_id="m", brand_id=BRAND, template="retention_warning", locale=locale,
                             to_email=ADDRESS, to_name=None, data=data, settings=settings).subject
        for locale in ("en", "fr")
    }

    assert subjects == {
        "en": "Your Popsell account will be deleted on 1 March 2030",
        "fr": "Votre compte Popsell sera supprimé le 1 mars 2030",
    }


def test_message_ids_cosmos_would_refuse_become_hashed_record_ids():
    assert email_record_id("verify:m1:t1") == "verify:m1:t1"
    assert email_record_id("a/b").startswith("sha256-")
    assert email_record_id("a/b") == email_record_id("a/b")


def test_the_registered_handler_uses_the_composition_root(tmp_path, clock):
    from popsell.bootstrap import build_container, set_container

    container = build_container(Settings(env="test", data_dir=tmp_path / "data"), clock=clock)
    set_container(container)
    try:
        handlers = queue_handlers(container)
        enqueue(container.bus, container.settings)

        assert worker.process_once(container.bus, QUEUE_EMAILS, handlers[QUEUE_EMAILS]) == 1

        [email] = container.mailer.list(BRAND)
        assert email["messageId"] == "verify:m1:t1"
    finally:
        set_container(None)

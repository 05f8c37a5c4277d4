"""Parallel submissions and clicks, and a crash at every write: one email a day, never a contact no link confirms."""

from __future__ import annotations

from tests.crm.capture_world import BROWSER, CAPTURE, ORIGIN, POLICY, token_of
from tests.races import CrashPoint, in_parallel, overlap_reads

WRITTEN = ("contacts", "action_tokens")


def test_parallel_submissions_of_one_address_send_one_email_and_write_one_contact(shop, monkeypatch):
    overlap_reads(monkeypatch, "query", "contacts", 5)  # every submission finds the address unknown
    body = {"form": "blog_popin", "email": "zoe@example.com", "memberOptIn": True,
            "consentTextVersion": "popin-2030-01", "privacyPolicyUrl": POLICY}
    answers = in_parallel(5, lambda: shop.client.post(CAPTURE, json=body,
                                                      headers={"Origin": ORIGIN, "User-Agent": BROWSER}))
    assert [answer.status_code for answer in answers] == [202] * 5
    assert len(shop.mails()) == 1
    [pending] = shop.stored()
    assert pending["memberOptIn"] == "opt_in_blog_pending"
    assert shop.confirm(shop.tokens()[0]).status_code == 200


def test_two_clicks_at_once_confirm_once(shop):
    shop.submit()
    [token] = shop.tokens()
    statuses = sorted(answer.status_code for answer in in_parallel(4, lambda: shop.confirm(token)))
    assert statuses == [200, 410, 410, 410]  # the link is single-use, whoever clicks first
    [seen] = shop.member_sees()
    assert seen["memberOptIn"]["value"] == "opt_in_blog_verified"


def test_a_crash_at_any_write_of_a_submission_leaves_an_address_the_next_submission_makes_confirmable(
        shop, monkeypatch):
    crash = CrashPoint(monkeypatch, WRITTEN)
    at = 0
    while True:
        at += 1
        email = f"crash{at}@example.com"
        answer = crash.during(at, lambda email=email: shop.submit(email))
        if not crash.fired:
            assert answer.status_code == 202
            break
        assert answer is None or answer.status_code == 500
        pending = [doc for doc in shop.stored() if doc.get("email") == email]
        sent = [mail for mail in shop.mails() if mail["toEmail"] == email]
        # Never a pending contact without its email: the email goes out before the contact is written.
        assert len(sent) >= len(pending)
        assert shop.submit(email).status_code == 202  # the widget's retry, the same day
        sent = [mail for mail in shop.mails() if mail["toEmail"] == email]
        assert len(sent) == 1  # the retry sends no second email that day
        assert shop.confirm(token_of(sent[0])).status_code == 200  # the one email's link confirms
        [confirmed] = [doc for doc in shop.stored() if doc.get("email") == email]
        assert confirmed["memberOptIn"] == "opt_in_blog_verified"
    assert at - 1 == 2  # the link, then the contact


def test_a_crash_during_the_confirmation_leaves_a_link_that_still_works(shop, monkeypatch):
    crash = CrashPoint(monkeypatch, WRITTEN)
    for at in (1, 2):  # before the contact is written; after it, before the link is used up
        email = f"click{at}@example.com"
        shop.submit(email)
        [mail] = [mail for mail in shop.mails() if mail["toEmail"] == email]
        token = token_of(mail)
        assert crash.during(at, lambda token=token: shop.confirm(token)) is None and crash.fired
        again = shop.confirm(token)
        assert again.status_code == 200, again.text
        [doc] = [doc for doc in shop.stored() if doc.get("email") == email]
        assert doc["memberOptIn"] == "opt_in_blog_verified"
        assert shop.confirm(token).status_code == 410

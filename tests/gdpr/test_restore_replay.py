"""A backup restore, then `retention replay`: every erasure, opt-out and black-list entry made since holds again.

The world is built through the API at T0, the embedded store's files are copied (the backup), then
contacts are erased by every path (the member, the brand's sync, a DSR erasure of their member,
their member's unsubscription, a retention timer), contacts opt out (an email's link, a global
opt-out, a declined invitation) and addresses are blacklisted (global opt-out, hard bounce). The
older copy of the store is put back, the journal (in the blob store) still holds all of it, and the
replay brings every one of those documents back to what it was before the restore, exactly.
"""

from __future__ import annotations

import base64
import json
import shutil
from datetime import timedelta

import pytest

from popsell.bootstrap import build_container, set_container
from popsell.registry import queue_handlers
from shared.clock import isoformat
from shared.crm import blacklist, provider_events, unsubscribe
from shared.crm import service as contacts
from shared.gdpr import journal, restriction
from shared.gdpr.retention import nightly
from shared.identity.models import Role
from shared.ports.store import Filter
from tests.builders import queued_emails, running_app
from tests.crm.test_invitations import tokens
from tests.gdpr.test_rights_api import add_person, confirm_token
from tests.identity.test_profile_api import add_member, app_headers
from tests.integrations.brand_platform import create_brand, signed_call

BRAND = "acme"
APP = f"/api/v1/app/{BRAND}"
SECRET = "restore-webhook"  # noqa: S105 - a test value
STORE_FILES = ("store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm")
DAY = timedelta(days=1)
BOB = {"id": "m2", "email": "bob.stone@example.com", "first_name": "Roberto", "last_name": "Stonecrop"}
# What a restore must not undo, compared document by document (minus system fields).
COMPARED = ("contacts", "members", "visitors", "blacklist")


@pytest.fixture
def settings(tmp_path):
    from shared.config import Settings

    return Settings(env="local", data_dir=tmp_path / "data", demo_brand=False, redirect_flush_ms=0,
                    mailjet_webhook_secret=SECRET)


class World:
    """The app on the installed container, which a restore replaces (requests always read the current one)."""

    def __init__(self, client, container, key):
        self.client, self.container, self.key = client, container, key

    @property
    def store(self):
        return self.container.store.for_brand(BRAND)

    def sync(self, method, external_id, body=None):
        self.container.clock.advance(timedelta(seconds=1))  # signatures are single-use
        return signed_call(self.client, method, f"/api/v1/integrations/{BRAND}/contacts/{external_id}", key=self.key,
                           now=self.container.clock.now(), body=body)

    def add_contact(self, headers, email):
        response = self.client.post(f"{APP}/contacts", headers=headers, json={"email": email, "firstName": "Zoe"})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def unsubscribe(self, contact_id, member_id, scope):
        token = unsubscribe.make_token(self.container.settings, brand_id=BRAND, contact_id=contact_id,
                                       member_id=member_id)
        response = self.client.post(f"{APP}/unsubscribe/{token}", params={"scope": scope})
        assert response.status_code == 200, response.text

    def send_emails(self):
        from shared.messaging import worker
        from shared.ports.bus import QUEUE_EMAILS

        handler = queue_handlers(self.container)[QUEUE_EMAILS]
        while worker.process_once(self.container.bus, QUEUE_EMAILS, handler):
            pass

    def provider_events(self):
        """The queue handler on every queued provider event, as the Functions trigger runs it."""
        for message in self.container.bus.receive(provider_events.QUEUE_PROVIDER_EVENTS):
            provider_events.handle_message(message, store=self.container.store, journal_for=self.container.journal,
                                           events=self.container.events, clock=self.container.clock)
            self.container.bus.complete(provider_events.QUEUE_PROVIDER_EVENTS, message)

    def retention(self):
        assert nightly.run(container=self.container)["failedBrands"] == []

    def documents(self):
        """Every document that a restore could bring back wrong, by container and id, minus system fields."""
        return {name: {doc["id"]: {k: v for k, v in doc.items() if not k.startswith("_")}
                       for doc in self.store.query_all(name)} for name in COMPARED}

    def back_up(self, folder):
        """Copy the embedded store's files while nothing writes: what an hourly backup holds."""
        self.reopen_after(lambda data: _copy(data, folder))

    def restore(self, folder):
        """Put the older copy of the store back (the blob folder, with the journal, stays as it is)."""
        self.reopen_after(lambda data: _copy(folder, data))

    def reopen_after(self, step):
        settings, clock = self.container.settings, self.container.clock
        set_container(None)
        step(settings.data_dir)
        self.container = build_container(settings, clock=clock)
        set_container(self.container)


def _copy(source, target):
    target.mkdir(parents=True, exist_ok=True)
    for name in STORE_FILES:
        (target / name).unlink(missing_ok=True)
        if (source / name).exists():
            shutil.copy2(source / name, target / name)


@pytest.fixture
def world(container, manager_token):
    with running_app(container) as client:
        key = create_brand(client, manager_token, BRAND, pro=2, manualContactEntry=True)
        yield World(client, container, key)


def _bounce(world, contact_id):
    event = {"event": "bounce", "time": int(world.container.clock.now().timestamp()), "MessageID": 7,
             "email": "bounced@example.com", "CustomID": "email:x", "hard_bounce": True,
             "error_related_to": "recipient", "error": "user unknown",
             "Payload": json.dumps({"brandId": BRAND, "contactId": contact_id})}
    auth = {"Authorization": "Basic " + base64.b64encode(f"mailjet:{SECRET}".encode()).decode()}
    assert world.client.post("/api/v1/webhooks/mailjet", headers=auth, json=[event]).status_code == 200
    world.provider_events()


def _replay(world, monkeypatch, capsys, *args):
    """`retention replay` through the CLI's main, on the same data folder; its JSON report."""
    from popsell.cli import main as cli
    from shared.config import get_settings

    settings, clock = world.container.settings, world.container.clock
    monkeypatch.setenv("POPSELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POPSELL_DEMO_BRAND", "false")
    get_settings.cache_clear()
    try:
        code = cli.main(["--now", isoformat(clock.now()), "retention", "replay", *args])
    finally:
        get_settings.cache_clear()
    assert code == 0
    # The CLI closed the installed container when it put its own: read through a new one.
    world.container = build_container(settings, clock=clock)
    set_container(world.container)
    return json.loads(capsys.readouterr().out)["brands"][BRAND]


def test_a_restored_backup_replayed_holds_every_erasure_opt_out_and_black_list_entry(world, manager_token, monkeypatch,
                                                                                     capsys, tmp_path):
    container = world.container
    ana = app_headers(container, add_member(container, member_id="m1", role=Role.AMBASSADOR), ttl=timedelta(days=60))
    bob = app_headers(container, add_person(container, BOB), ttl=timedelta(days=60))
    cleo = app_headers(container, add_member(container, member_id="m3", role=Role.AMBASSADOR), ttl=timedelta(days=60))
    ids = {name: world.add_contact(ana, f"{name}@example.com") for name in ("mine", "idle", "out", "everyone",
                                                                              "invited")}
    ids["bob_gone"] = world.add_contact(bob, "bob.gone@example.com")
    ids["cleo_gone"] = world.add_contact(cleo, "cleo.gone@example.com")
    for name, member, external_id in (("synced", "m1", "ext-1"), ("bounced", "m1", "ext-2"),
                                      ("bob_kept", "m2", "ext-3")):
        response = world.sync("PUT", external_id, {"memberId": member, "email": f"{name}@example.com",
                                                   "firstName": "Zoe", "optIn": True})
        assert response.status_code == 201, response.text
        ids[name] = response.json()["contactId"]
    widget = f"/api/v1/widget/{BRAND}/visitors"
    visitor = world.client.post(widget, json={"acceptWidgetPolicy": True, "widgetPolicyVersion": "wp-1",
                                              "acceptServiceTerms": True, "serviceTermsVersion": "svc-3",
                                              "firstName": "Zelda", "emailTmp": "zelda.q@example.com",
                                              "emailTmpPurpose": "conversation_notification"}).json()
    visitor_id = visitor["visitor"]["id"]
    manager_token("admin", BRAND)  # the brand's admin, stored before the backup
    assert world.client.post(f"{APP}/contacts/{ids['invited']}/invitation", headers=ana).status_code == 200
    world.send_emails()
    [invitation] = [mail for mail in world.container.mailer.list(brand_id=BRAND)
                    if mail["template"] == "contact_invitation"]

    container.clock.advance(timedelta(hours=1))
    backup_at = container.clock.now()
    world.back_up(tmp_path / "backup")
    container.clock.advance(timedelta(minutes=5))

    # Erasures by every path, opt-outs, black-list entries.
    assert world.client.delete(f"{APP}/contacts/{ids['mine']}", headers=ana).status_code == 204
    assert world.sync("DELETE", "ext-1").status_code == 204
    world.unsubscribe(ids["out"], "m1", "member")
    world.unsubscribe(ids["everyone"], "m1", "brand")
    assert world.client.post(f"{APP}/invitations/decline", json={"token": tokens(invitation)["decline"]}).json() == {
        "answer": "declined"}
    _bounce(world, ids["bounced"])
    asked = world.client.post(f"{APP}/gdpr/requests", headers=bob, json={"kind": "erasure"})
    assert asked.status_code == 201, asked.text
    [confirmation] = [mail for mail in queued_emails(world.container)
                      if mail["template"] == "gdpr_erasure_confirmation"]
    assert world.client.post(f"{APP}/gdpr/erasure/confirm", json={"token": confirm_token(confirmation)}).status_code \
        == 200
    # The visitor's erasure, recorded by the brand on their behalf (a request in the widget would count as an
    # interaction after the backup: a statistic, which a restore loses like any other write).
    requests = f"/api/v1/manager/brands/{BRAND}/gdpr/requests"
    admin = {"Authorization": "Bearer " + world.container.tokens.issue(
        subject=f"mu-admin-{BRAND}", audience="manager", brand_id=BRAND, level="admin",
        now=world.container.clock.now(), ttl=timedelta(hours=1))}
    response = world.client.post(requests, headers=admin, json={"visitorId": visitor_id, "kind": "erasure"})
    assert response.status_code == 201, response.text
    request = response.json()
    assert world.client.post(f"{requests}/{request['id']}/verify-identity", headers=admin).status_code == 200
    assert world.client.post(f"{requests}/{request['id']}/process", headers=admin).status_code == 200
    assert world.client.post(f"{APP}/me/unsubscribe", headers=cleo, json={"confirm": True}).status_code == 202
    container.clock.advance(8 * DAY)
    world.retention()  # the unsubscribed member goes, and their contact with them
    container.clock.advance(23 * DAY)
    world.retention()  # day 31: the contact never invited is hashed by its timer

    before = world.documents()
    erased = {name for name, contact_id in ids.items() if before["contacts"][contact_id]["status"] == "erased"}
    assert erased == {"mine", "synced", "idle", "bob_gone", "cleo_gone"}
    assert before["members"]["m2"]["status"] == before["members"]["m3"]["status"] == "erased"
    assert before["visitors"][visitor_id]["status"] == "erased"
    hashes = {name: before["contacts"][ids[name]]["emailHash"] for name in ("everyone", "bounced")}
    assert {h: before["blacklist"][f"email:{h}"]["reasons"] for h in hashes.values()} == {
        hashes["everyone"]: ["global_opt_out"], hashes["bounced"]: ["hard_bounce"]}

    world.restore(tmp_path / "backup")
    restored = world.documents()
    assert restored["blacklist"] == {}
    assert all(restored["contacts"][ids[name]]["status"] == "active" for name in erased)
    assert restored["contacts"][ids["out"]]["memberOptIn"] == "new"
    assert restored["members"]["m2"]["firstName"] == "Roberto"
    # The journal is not in the restored store: it still holds every change made since the backup.
    entries = world.container.journal(BRAND).entries(since=backup_at)
    assert {entry["subjectType"] for entry in entries} == {"member", "visitor", "contact", "contact_opt_out",
                                                           "blacklist"}
    assert "zoe" not in json.dumps(entries).lower() and "example.com" not in json.dumps(entries)

    dry = _replay(world, monkeypatch, capsys, "--since", isoformat(backup_at), "--dry-run")
    assert dry["entries"] == len(entries) and dry["erasedAgain"] == 8  # 5 contacts, 2 members, 1 visitor
    assert world.documents() == restored
    report = _replay(world, monkeypatch, capsys, "--since", isoformat(backup_at))
    assert report == {**dict.fromkeys(journal.COUNTS, 0), "entries": len(entries), "erasedAgain": 8,
                      "optedOutAgain": 3, "blacklistedAgain": 2}

    after = world.documents()
    for name in erased | {"out", "everyone", "bob_kept"}:
        assert after["contacts"][ids[name]] == before["contacts"][ids[name]], name
    consent = ("memberOptIn", "memberOptInAt", "brandOptIn", "brandOptInAt", "retention", "brandVisible")
    # The declined invitation: its consent exactly (the answer's date on the invitation is not journalled).
    assert {k: after["contacts"][ids["invited"]][k] for k in consent} == {
        k: before["contacts"][ids["invited"]][k] for k in consent}
    for member_id in ("m2", "m3"):
        assert after["members"][member_id] == before["members"][member_id]
    assert after["visitors"] == before["visitors"]
    assert after["blacklist"] == before["blacklist"]
    # The bounced address blocks every send again, through the black list.
    bounced = contacts.from_document(world.store.get("contacts", ids["bounced"]))[0]
    assert blacklist.is_blocked(store=world.store, email_hash=bounced.email_hash)
    assert not contacts.may_send(store=world.store, contact=bounced, purpose="member_publication")
    assert world.store.query_all("contacts", filters=[Filter("memberId", "=", "m2"), Filter("status", "=", "active")])

    again = _replay(world, monkeypatch, capsys, "--since", isoformat(backup_at))
    assert again == {**dict.fromkeys(journal.COUNTS, 0), "entries": len(entries), "alreadyErased": 8,
                     "alreadyOptedOut": 3, "alreadyBlacklisted": 2}
    assert world.documents() == after


def test_a_restored_backup_replayed_restricts_again_and_lifts_again_what_changed_since(world, monkeypatch, capsys,
                                                                                       tmp_path):
    container = world.container
    ana = app_headers(container, add_member(container, member_id="m1", role=Role.AMBASSADOR), ttl=timedelta(days=2))
    lea = app_headers(container, add_member(container, member_id="m4", role=Role.AMBASSADOR), ttl=timedelta(days=2))

    def ask(headers, kind):
        response = world.client.post(f"{APP}/gdpr/requests", headers=headers, json={"kind": kind})
        assert response.status_code == 201 and response.json()["state"] == "done", response.text

    def restricted():
        held = {member_id for member_id in ("m1", "m4") if world.store.get("members", member_id).get("restriction")}
        return held | {doc["id"] for doc in world.store.query_all(restriction.CONTAINER)}

    ask(lea, "restriction")
    container.clock.advance(timedelta(hours=1))
    backup_at = container.clock.now()
    world.back_up(tmp_path / "backup")
    container.clock.advance(timedelta(minutes=5))

    ask(ana, "restriction")  # restricted after the backup
    ask(lea, "restriction_lift")  # lifted after the backup
    hashed = "c" * 64  # a contact's: the person behind an email hash (asked on the rights page)
    assert restriction.restrict(store=world.store, journal=world.container.journal(BRAND), subject_kind="contact",
                                subject_id=hashed, request_id="gr-1", now=container.clock.now())
    assert restricted() == {"m1", hashed}
    since = world.store.get("members", "m1")["restriction"]["since"]

    world.restore(tmp_path / "backup")
    assert restricted() == {"m4"}  # the backup's state: the person who asked since would be processed again

    report = _replay(world, monkeypatch, capsys, "--since", isoformat(backup_at))
    assert report == {**dict.fromkeys(journal.COUNTS, 0), "entries": 3, "restrictionAgain": 3}
    assert restricted() == {"m1", hashed}
    assert world.store.get("members", "m1")["restriction"]["since"] == since  # as of the request, not the replay
    again = _replay(world, monkeypatch, capsys, "--since", isoformat(backup_at))
    assert again == {**dict.fromkeys(journal.COUNTS, 0), "entries": 3, "restrictionAlready": 3}

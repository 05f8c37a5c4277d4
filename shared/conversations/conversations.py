"""Conversations, their messages and each participant's inbox (docs/conversations.md).

Three kinds of documents, all written together where one action changes several:
- the conversation (`conversations`): its parties, kind, the instants the metrics are made of
  (requested, started, each party's first message, the dialogue, the last message);
- its messages (`messages`, partitioned by brand and conversation, never by brand alone), ordered
  by `seq`: the instant they were written then a digest, so "messages since a cursor" is one range;
- one inbox entry per participant (`inbox`), whose `key` ("<party>|<last activity>") lists a
  party's conversations newest first from one index, with its unread count.

Posting is idempotent: the message's id derives from the client's `clientMessageId`, so a retry
finds it written; the conversation and the inbox entries move only for a message newer than the
last they counted (their `lastSeq` / `countedSeq`), in one transaction, so a retry after a crash
between the message and its counts completes them once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.clock import isoformat
from shared.conversations import events as conversation_events
from shared.conversations.models import ConversationKind, Party
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.model import Publisher
from shared.ports.store import BrandStore, DocumentConflict, DocumentNotFound, Filter, Write
from shared.ports.store_retry import retrying, update_document

CONVERSATIONS = "conversations"
MESSAGES = "messages"
INBOX = "inbox"
MAX_PAGE = 100
_ATTEMPTS = 8
_NAMESPACE = uuid.UUID("0b6c1f0e-5d3a-4a1e-8f4e-2b9c7d6a5e13")
_TOP = "\U0010ffff"


def party_key(party: Party) -> str:
    return f"{party.kind}:{party.id}"


def _inbox_id(owner: Party, conversation_id: str) -> str:
    return f"{party_key(owner)}:{conversation_id}"


def inbox_entry(owner: Party, other: Party, conversation_id: str, kind: str, at: str) -> dict[str, Any]:
    """A party's new inbox entry of a conversation: nothing unread, listed by its last activity `at`."""
    return {"id": _inbox_id(owner, conversation_id), "owner": party_key(owner), "conversationId": conversation_id,
            "kind": kind, "other": other.model_dump(), "lastMessageAt": None, "activityAt": at,
            "key": f"{party_key(owner)}|{at}", "unread": 0, "countedSeq": "", "readSeq": ""}


def start(*, store: BrandStore, events: Publisher, conversation_id: str, kind: ConversationKind, member: Party,
          visitor: Party, started_at: datetime, requested_at: datetime | None = None,
          request_id: str | None = None) -> dict[str, Any]:
    """Start a conversation and its two inbox entries; the existing one (its entries made whole) if started.

    Each write is a create under a fixed id, so a start that crashed half-way is completed by the next,
    which raises `ConversationStarted` again (same id: its handlers count it once). The member and
    their home store are written on the conversation: the metrics and the ongoing count read them.
    """
    at = isoformat(started_at)
    member_doc = store.find("members", member.id) or {}
    doc = {"id": conversation_id, "kind": kind, "parties": [member.model_dump(), visitor.model_dump()],
           "memberId": member.id, "storeId": member_doc.get("homeShopId"),
           "requestId": request_id, "requestedAt": isoformat(requested_at) if requested_at else None,
           "startedAt": at, "firstMessageAt": {}, "dialogueAt": None, "lastMessageAt": None, "lastSeq": "",
           "messageCount": 0, "readSeq": {}}
    try:
        doc = store.create(CONVERSATIONS, doc)
    except DocumentConflict:
        doc = store.get(CONVERSATIONS, conversation_id)
    for owner, other in ((member, visitor), (visitor, member)):
        _entry(store, doc, owner, other)
    events.publish(conversation_events.started(store.brand_id, doc))
    return doc


def _entry(store: BrandStore, conversation: dict[str, Any], owner: Party, other: Party) -> dict[str, Any]:
    """A party's inbox entry of a conversation, made if it is missing."""
    found = store.find(INBOX, _inbox_id(owner, conversation["id"]))
    if found is not None:
        return found
    entry = inbox_entry(owner, other, conversation["id"], conversation["kind"], conversation["startedAt"])
    if conversation.get("title"):  # a group: its title and how many take part
        entry.update(title=conversation["title"], members=len(conversation["parties"]))
    try:
        return store.create(INBOX, entry)
    except DocumentConflict:
        return store.get(INBOX, _inbox_id(owner, conversation["id"]))


def of_party(*, store: BrandStore, conversation_id: str, party: Party) -> dict[str, Any]:
    """A conversation its caller takes part in; 404 for anyone else (as if it did not exist)."""
    doc = store.find(CONVERSATIONS, conversation_id)
    if doc is None or party.model_dump() not in doc["parties"]:
        raise NotFound("Conversation not found")
    return doc


def set_blocked(*, store: BrandStore, conversation_id: str, party: Party, blocked: bool) -> None:
    """The party blocks (or unblocks) the other: no more messages either way; it leaves the blocker's list.

    The blocker's inbox entry loses its `key` while blocked (so no list reads it) and gets it back
    on unblocking; the conversation and its messages stay (the other party still has its history).
    """
    if len(of_party(store=store, conversation_id=conversation_id, party=party)["parties"]) > 2:
        raise Conflict("A group conversation cannot be blocked")
    me = party_key(party)

    def attempt() -> None:
        doc = store.get(CONVERSATIONS, conversation_id)
        by = [key for key in doc.get("blockedBy", []) if key != me] + ([me] if blocked else [])
        if by != doc.get("blockedBy", []):
            store.replace(CONVERSATIONS, {**doc, "blockedBy": by}, etag=doc["_etag"])
        entry = _entry(store, doc, party, _other(doc, party))
        listed = {key: value for key, value in entry.items() if key != "key"}
        if blocked and "key" in entry:
            store.replace(INBOX, listed, etag=entry["_etag"])
        elif not blocked and "key" not in entry:
            store.replace(INBOX, {**listed, "key": f"{entry['owner']}|{entry['activityAt']}"}, etag=entry["_etag"])

    retrying(attempt, attempts=_ATTEMPTS)


def _other(doc: dict[str, Any], party: Party) -> Party:
    """The other party (of a group: the first other member, whom its inbox entry shows)."""
    return next(Party.model_validate(p) for p in doc["parties"] if p != party.model_dump())


def _seq(at: datetime, message_id: str) -> str:
    """The message's place in its conversation: its instant (to the microsecond), then its id."""
    return f"{isoformat(at)}|{message_id}"


def _message_id(conversation_id: str, author: Party, client_message_id: str) -> str:
    return uuid.uuid5(_NAMESPACE, f"{conversation_id}\x1f{party_key(author)}\x1f{client_message_id}").hex


def message_pk(brand_id: str, conversation_id: str) -> str:
    """The partition of a conversation's messages."""
    return f"{brand_id}|{conversation_id}"



class AlreadyAnswered(Conflict):
    code = "already-answered"
    title = "This request was answered already"


def post(*, store: BrandStore, events: Publisher, conversation_id: str, author: Party, data: Any, now: datetime,
         parts: dict[str, Any] | None = None, unique_key: str | None = None,
         attach: Callable[[str], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write a message, then move the conversation and both inbox entries; the message (the same on a retry).

    `parts` are the message's contents (shared/conversations/contents.py; a text's by default). A
    message with a `unique_key` (a rating of one request) is the only one of its key: a second one
    with another `clientMessageId` is refused (409). `attach` claims the message's upload under its id
    (idempotent, so a retry after a crash claims it again harmlessly) and gives its descriptor.
    """
    conversation = of_party(store=store, conversation_id=conversation_id, party=author)
    if conversation.get("blockedBy"):
        raise Forbidden("This conversation is blocked: no more messages")
    message_id = (uuid.uuid5(_NAMESPACE, f"{conversation_id}\x1f{unique_key}").hex if unique_key
                  else _message_id(conversation_id, author, data.client_message_id))
    pk = message_pk(store.brand_id, conversation_id)
    found = store.find(MESSAGES, message_id, pk=pk)
    if found is None:
        body = {key: value for key, value in (parts or {"text": data.text}).items() if value is not None}
        if attach is not None:
            body["media"] = attach(message_id)
        message = {"id": message_id, "pk": pk, "conversationId": conversation_id, "author": author.model_dump(),
                   "kind": data.kind, **body, "clientMessageId": data.client_message_id,
                   "createdAt": isoformat(now), "seq": _seq(now, message_id)}
        try:
            found = store.create(MESSAGES, message)
        except DocumentConflict:
            found = store.get(MESSAGES, message_id, pk=pk)
    if found.get("clientMessageId", data.client_message_id) != data.client_message_id \
            or found["author"] != author.model_dump():
        raise AlreadyAnswered("This request was answered already")
    # A retry finds the message standing; its counts may not be: they are completed now.
    _count(store, conversation, author, found)
    # Raised on a retry too (same id): a handler that missed it the first time gets it now.
    events.publish(conversation_events.posted(store.brand_id, found,
                                              recipients=[party_key(p) for p in _others(conversation, author)]))
    return found


# Message ids a conversation and an inbox entry remember having counted: a retry comes within
# seconds, and messages posted at once by both parties may be counted in either order.
COUNTED_MEMORY = 50


def _counted(entry: dict[str, Any], message_id: str) -> list[str]:
    return [*entry.get("counted", []), message_id][-COUNTED_MEMORY:]


def parties_of(doc: dict[str, Any]) -> list[Party]:
    return [Party.model_validate(p) for p in doc["parties"]]


def _others(doc: dict[str, Any], party: Party) -> list[Party]:
    return [p for p in parties_of(doc) if p != party]


def _count(store: BrandStore, conversation: dict[str, Any], author: Party, message: dict[str, Any]) -> None:
    message_id, seq, at = message["id"], message["seq"], message["createdAt"]

    def attempt() -> None:
        doc = store.get(CONVERSATIONS, conversation["id"])
        # The author's entry is read up to their message; every other party's has one more unread.
        entries = [(_entry(store, doc, party, _other(doc, party)), 0 if party == author else 1)
                   for party in parties_of(doc)]
        writes = []
        if message_id not in doc.get("counted", []):
            first = dict(doc["firstMessageAt"])
            first[author.kind] = min(first.get(author.kind, at), at)
            writes.append(Write("replace", {
                **doc, "lastSeq": max(doc["lastSeq"], seq), "lastMessageAt": max(doc["lastMessageAt"] or at, at),
                "firstMessageAt": first, "dialogueAt": max(first.values()) if len(first) == 2 else None,
                "messageCount": doc["messageCount"] + 1, "counted": _counted(doc, message_id),
                "readSeq": {**doc["readSeq"], party_key(author): max(doc["readSeq"].get(party_key(author), ""), seq)},
            }, etag=doc["_etag"]))
        for entry, unread in entries:
            if message_id in entry.get("counted", []):
                continue
            last = max(entry["lastMessageAt"] or at, at)
            moved = {**entry, "countedSeq": max(entry["countedSeq"], seq), "lastMessageAt": last, "activityAt": last,
                     "unread": entry["unread"] + unread, "counted": _counted(entry, message_id)}
            if "key" in entry:  # a blocked conversation stays out of its blocker's list
                moved["key"] = f"{entry['owner']}|{last}"
            if unread == 0:  # writing in a conversation reads what it holds so far
                moved.update(unread=0, readSeq=max(entry["readSeq"], moved["countedSeq"]))
            writes.append(Write("replace", moved, etag=entry["_etag"]))
        _write_all(store, writes, doc["id"])

    retrying(attempt, attempts=_ATTEMPTS)


def _write_all(store: BrandStore, writes: list[Write], conversation_id: str) -> None:
    """The conversation's and the inbox entries' writes (each container is its own transaction)."""
    for container in (CONVERSATIONS, INBOX):
        mine = [w for w in writes if (w.doc["id"] == conversation_id) == (container == CONVERSATIONS)]
        if mine:
            store.write_batch(container, mine)


def messages(*, store: BrandStore, conversation_id: str, party: Party, after: str | None = None,
             before: str | None = None, page_size: int = 50) -> tuple[list[dict[str, Any]], str | None, dict[str, str]]:
    """A page of messages, oldest first: after a cursor (catching up), or the latest ones before one.

    With the page come the parties' read marks (party -> the `seq` they read up to): the read receipts.
    """
    doc = of_party(store=store, conversation_id=conversation_id, party=party)
    marks = dict(doc.get("readSeq", {}))
    pk = message_pk(store.brand_id, conversation_id)
    if before is not None or after is None:
        filters = [Filter("seq", "<", before)] if before else []
        page = store.query(MESSAGES, pk=pk, filters=filters, order_by="seq", descending=True, page_size=page_size)
        items = list(reversed(page.items))
        return items, items[0]["seq"] if page.continuation and items else None, marks
    page = store.query(MESSAGES, pk=pk, filters=[Filter("seq", ">", after)], order_by="seq", page_size=page_size)
    items = page.items
    return items, items[-1]["seq"] if items else after, marks


def mark_read(*, store: BrandStore, events: Publisher, conversation_id: str, party: Party, up_to: str,
              now: datetime) -> int:
    """The party has read up to a message (its `seq`); their unread count now. The others are told."""
    conversation = of_party(store=store, conversation_id=conversation_id, party=party)
    pk = message_pk(store.brand_id, conversation_id)

    def attempt() -> int:
        entry = store.get(INBOX, _inbox_id(party, conversation_id))
        read = max(entry["readSeq"], up_to)
        later = store.query(MESSAGES, pk=pk, filters=[Filter("seq", ">", read)], order_by="seq", page_size=1000,
                            fields=("author",)).items
        unread = sum(1 for item in later if item["author"] != party.model_dump())
        store.replace(INBOX, {**entry, "readSeq": read, "unread": unread}, etag=entry["_etag"])
        doc = store.get(CONVERSATIONS, conversation_id)
        if read > doc["readSeq"].get(party_key(party), ""):
            store.replace(CONVERSATIONS, {**doc, "readSeq": {**doc["readSeq"], party_key(party): read}},
                          etag=doc["_etag"])
        return unread

    unread = retrying(attempt, attempts=_ATTEMPTS)
    events.publish(conversation_events.read(store.brand_id, conversation_id, party=party_key(party), up_to=up_to,
                                            others=[party_key(p) for p in _others(conversation, party)], at=now))
    return unread


def inbox(*, store: BrandStore, party: Party, page_size: int = 20,
          continuation: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The party's conversations, the latest activity first, with their unread counts."""
    owner = party_key(party)
    page = store.query(INBOX, filters=[Filter("key", ">=", f"{owner}|"), Filter("key", "<", f"{owner}|{_TOP}")],
                       order_by="key", descending=True, page_size=page_size, continuation=continuation)
    return page.items, page.continuation



# Fields of a message that are its author's content, as a person's export and the moderation view show them.
CONTENT_FIELDS = ("kind", "text", "product", "products", "fields", "replyTo", "values", "provided", "score",
                  "comment", "media", "removedAt")


def _content(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in ("id", "conversationId", "createdAt", *CONTENT_FIELDS) if key in message}


def export_party(*, store: BrandStore, party: Party) -> list[dict[str, Any]]:
    """Every message the party wrote, in every conversation of theirs (blocked ones too), oldest first.

    A person's export holds their own messages only: what the other party wrote is theirs.
    """
    entries = store.query_all(INBOX, filters=[Filter("owner", "=", party_key(party))], page_size=MAX_PAGE,
                              fields=("conversationId",))
    found: list[dict[str, Any]] = []
    for entry in entries:
        pk = message_pk(store.brand_id, entry["conversationId"])
        mine = store.query_all(MESSAGES, pk=pk, order_by="seq", page_size=1000)
        found += [_content(message) for message in mine if message["author"] == party.model_dump()]
    return sorted(found, key=lambda message: (message["createdAt"], message["id"]))


def carry_over(*, store: BrandStore, from_party: Party, to_party: Party) -> int:
    """Make a merged account's conversations its successor's (a temporary account become a client's).

    Per conversation, each step is a set that a retry finds done: the successor's inbox entry (a copy
    of the old one), the successor in the conversation's parties, the other parties' entries naming
    it, then the old entry goes. The messages keep their author (the person wrote them under the
    old id; in a widget conversation the visitor's messages are those of kind `visitor`). How many moved.
    """
    old_key, new_key = party_key(from_party), party_key(to_party)
    entries = store.query_all(INBOX, filters=[Filter("owner", "=", old_key)], page_size=MAX_PAGE)
    for entry in entries:
        conversation_id = entry["conversationId"]
        moved = {key: value for key, value in entry.items() if not key.startswith("_")}
        moved.update(id=_inbox_id(to_party, conversation_id), owner=new_key)
        if "key" in entry:
            moved["key"] = f"{new_key}|{entry['activityAt']}"
        try:
            store.create(INBOX, moved)
        except DocumentConflict:
            pass  # done by a first try (or the successor had this conversation already)

        def swapped(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None or from_party.model_dump() not in doc["parties"]:
                return None
            parties = [to_party.model_dump() if p == from_party.model_dump() else p for p in doc["parties"]]
            read = {(new_key if key == old_key else key): value for key, value in doc.get("readSeq", {}).items()}
            return {**doc, "parties": parties, "readSeq": read}

        update_document(store, CONVERSATIONS, conversation_id, swapped, attempts=_ATTEMPTS)
        doc = store.get(CONVERSATIONS, conversation_id)
        for party in parties_of(doc):
            if party == to_party:
                continue

            def renamed(other: dict[str, Any] | None) -> dict[str, Any] | None:
                if other is None or other["other"] != from_party.model_dump():
                    return None
                return {**other, "other": to_party.model_dump()}

            update_document(store, INBOX, _inbox_id(party, conversation_id), renamed, attempts=_ATTEMPTS)
        try:
            store.delete(INBOX, entry["id"])
        except DocumentNotFound:
            pass
    return len(entries)

"""The community chat: members of one brand talking among themselves, one to one or in groups.

A community conversation is a conversation of kind `community` whose parties are all members: the
messages, inbox entries, unread counts, read marks and pushes are the same as the widget chat's
(shared/conversations/conversations.py). One to one, there is one conversation per pair (its id
derives from both); a group has a title and 3 to MAX_GROUP members, and its id derives from its
creator and their `clientConversationId`, so a retried creation lands once. Only active members
the community shows (not hidden from it by their opt-out) can be invited: 404 otherwise. These
conversations are the members' own: no metric counts them, and no visitor is ever in one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.clock import isoformat
from shared.conversations.conversations import CONVERSATIONS, _entry, parties_of
from shared.conversations.models import Party
from shared.errors import InvalidInput, NotFound
from shared.ports.store import BrandStore, DocumentConflict

MAX_GROUP = 50
_NAMESPACE = uuid.UUID("3a9d5c1e-7f26-4b8a-9e0d-54c2a1f7b6e8")


class CommunityConversationIn(BaseModel):
    """Start (or find) a conversation with one member, or a group with several (then a title)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    member_ids: list[str] = Field(alias="memberIds", min_length=1, max_length=MAX_GROUP - 1)
    title: str | None = Field(None, min_length=1, max_length=100)
    client_conversation_id: str | None = Field(None, alias="clientConversationId", min_length=8, max_length=64,
                                               pattern=r"^[A-Za-z0-9_-]+$")

    @model_validator(mode="after")
    def _a_group_has_a_title_and_an_id(self) -> CommunityConversationIn:
        if len(set(self.member_ids)) > 1 and (self.title is None or self.client_conversation_id is None):
            raise ValueError("a group (several members) has a title and a clientConversationId")
        return self


def _invitable(store: BrandStore, member_id: str) -> bool:
    doc = store.find("members", member_id)
    return bool(doc) and doc.get("status") == "active" and not (doc.get("visibility") or {}).get(
        "hideFromCommunity", False)


def start(*, store: BrandStore, creator: str, data: CommunityConversationIn,
          now: datetime) -> dict[str, Any]:
    """The conversation of the creator with these members: the pair's, or a new group (the same on a retry)."""
    others = [member_id for member_id in dict.fromkeys(data.member_ids) if member_id != creator]
    if not others:
        raise InvalidInput("Name another member", errors=[{"field": "memberIds", "message": "not only yourself"}])
    for member_id in others:
        if not _invitable(store, member_id):
            raise NotFound("Member not found")
    if len(others) == 1 and data.title is None:
        conversation_id = uuid.uuid5(_NAMESPACE, "\x1f".join(("pair", *sorted((creator, others[0]))))).hex
    else:
        conversation_id = uuid.uuid5(_NAMESPACE, f"group\x1f{creator}\x1f{data.client_conversation_id}").hex
    parties = [Party(kind="member", id=member_id) for member_id in (creator, *others)]
    doc = {"id": conversation_id, "kind": "community", "parties": [p.model_dump() for p in parties],
           "title": data.title if len(parties) > 2 or data.title else None, "createdBy": creator,
           "memberId": None, "storeId": None, "requestId": None, "requestedAt": None, "startedAt": isoformat(now),
           "firstMessageAt": {}, "dialogueAt": None, "lastMessageAt": None, "lastSeq": "", "messageCount": 0,
           "readSeq": {}}
    try:
        doc = store.create(CONVERSATIONS, doc)
    except DocumentConflict:
        doc = store.get(CONVERSATIONS, conversation_id)  # the pair's, or this group again (a retry)
    for party in parties_of(doc):
        _entry(store, doc, party, next(p for p in parties_of(doc) if p != party))
    return doc

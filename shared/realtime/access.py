"""What features call: `negotiate` (a client's URL and token for groups the feature decided it may join)
and `publish` (an envelope to a group, after the store write, best effort).

The feature's own route decides which groups a caller may join (a member their conversations, a
visitor theirs); this module makes sure each of them is of the caller's brand, so a bug there can
never hand out another brand's group.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from shared.clock import Clock
from shared.errors import TransientError
from shared.ports.realtime import DEFAULT_TTL, Realtime, brand_of_group, envelope

log = logging.getLogger("popsell.realtime")


def negotiate(
    *, realtime: Realtime, brand_id: str, user_id: str, groups: list[str], ttl: timedelta = DEFAULT_TTL
) -> dict[str, Any]:
    """`{url, token, expiresAt}` for `user_id`, joining `groups` (all of `brand_id`: ValueError otherwise)."""
    foreign = [group for group in groups if brand_of_group(group) != brand_id]
    if foreign:
        raise ValueError("a client joins its own brand's groups only")
    return realtime.client_access(user_id=user_id, groups=list(dict.fromkeys(groups)), ttl=ttl).as_json()


def publish(
    *,
    realtime: Realtime,
    clock: Clock,
    group: str,
    type: str,  # noqa: A002 - the envelope's field
    brand_id: str,
    data: dict[str, Any],
    envelope_id: str | None = None,
) -> bool:
    """Push one envelope to `group` after the store write; False (logged, no ids) when the push failed.

    The write already happened and clients catch up by cursor, so a failed push never fails the request.
    """
    message = envelope(type=type, brand_id=brand_id, data=data, sent_at=clock.now(), id=envelope_id)
    try:
        realtime.publish(group, message)
    except TransientError:
        log.warning("realtime push dropped: type=%s", type)
        return False
    return True

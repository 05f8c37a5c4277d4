"""Activity records: a login (or other account activity) with a hashed IP and user agent only.

The guide: IP address and user agent are hashed as soon as they are collected and feed the
anti-fraud monitoring; no readable IP is stored. Records live in `activity_log`, partitioned by
"<brand>|<subject>", and expire after one year.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.clock import isoformat
from shared.ports.store import BrandStore
from shared.privacy.hashing import BrandHasher

CONTAINER = "activity_log"
KEEP = timedelta(days=365)


def client_hashes(hasher: BrandHasher, *, ip: str | None, user_agent: str | None) -> tuple[str | None, str | None]:
    """The keyed hashes of a client's IP and user agent, computed at once so the clear values go no further."""
    return (hasher("ip", ip) if ip else None, hasher("user_agent", user_agent) if user_agent else None)


def record(
    *, store: BrandStore, subject: str,
    kind: str,
    now: datetime,
    ip_hash: str | None,
    user_agent_hash: str | None,
    method: str | None = None,
) -> str:
    """Write one activity record (e.g. kind "login", method "password"); returns its id."""
    record_id = uuid.uuid4().hex
    store.create(
        CONTAINER,
        {
            "id": record_id,
            "pk": f"{store.brand_id}|{subject}",
            "subject": subject,
            "kind": kind,
            "method": method,
            "at": isoformat(now),
            "ipHash": ip_hash,
            "userAgentHash": user_agent_hash,
            "ttl": int(KEEP.total_seconds()),
        },
    )
    return record_id

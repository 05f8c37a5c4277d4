"""The local operator of `make run` (local dev mode only): a stored Manager operator and tokens for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from popsell.bootstrap import Container
from shared.identity import manager_users, repository
from shared.store_schema import PLATFORM_SCOPE

LOCAL_OPERATOR_ID = "local-operator"
TOKEN_TTL = timedelta(days=1)


def ensure(container: Container) -> None:
    """A stored operator for the local tokens (created on first use)."""
    store = container.store.for_brand(PLATFORM_SCOPE)
    if store.find(repository.MANAGER_USERS, LOCAL_OPERATOR_ID) is None:
        manager_users.create_active(store=store, hasher=container.hasher(PLATFORM_SCOPE),
                                    email="operator@popsell.example", level="operator",
                                    now=container.clock.now(), user_id=LOCAL_OPERATOR_ID)


def token(container: Container) -> tuple[str, datetime]:
    """A fresh operator token, valid TOKEN_TTL from the server's clock (the dev clock, when it was moved)."""
    ensure(container)
    now = container.clock.now()
    issued = container.tokens.issue(subject=LOCAL_OPERATOR_ID, audience="manager", brand_id=None, level="operator",
                                    now=now, ttl=TOKEN_TTL)
    return issued, now + TOKEN_TTL

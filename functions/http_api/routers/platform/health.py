"""Health: is the store and the bus reachable."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.errors import TransientError

router = APIRouter(tags=["health"])
log = logging.getLogger("popsell.health")


class Health(BaseModel):
    status: Literal["ok"]
    checks: dict[str, Literal["ok"]]


@router.get("/api/v1/health", response_model=Health, responses=problem_responses(503), **access("public"))
def health(container: ContainerDep) -> Health:
    """Answers 200 when the document store and the message bus are reachable, 503 naming the one that is not."""
    failing = []
    for name, ping in (("store", lambda: container.store.ping()), ("bus", lambda: container.bus.ping())):
        try:
            ping()
        except Exception as exc:  # any failure of a dependency is "unavailable", never a 500
            log.warning("health check %s failed: %s", name, type(exc).__name__)
            failing.append(name)
    if failing:
        raise TransientError(f"Unreachable: {', '.join(failing)}")
    return Health(status="ok", checks={"store": "ok", "bus": "ok"})

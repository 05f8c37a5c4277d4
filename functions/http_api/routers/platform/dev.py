"""Dev-only surfaces (local dev mode only; never mounted under the Functions host or production settings).

They let a whole scenario be played day by day against the running local server: move the
clock (the queue worker and the timers follow it), read the outbox, run a timer now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from functions import local_operator
from functions.http_api.access import access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from popsell.registry import timer_jobs
from shared.clock import SettableClock, isoformat
from shared.errors import Conflict, NotFound

router = APIRouter(prefix="/api/v1/dev", tags=["dev (local only)"])


class ClockRead(BaseModel):
    now: str


class OperatorToken(BaseModel):
    """A local operator token for the Manager API, issued at the server's (dev) clock."""

    model_config = ConfigDict(populate_by_name=True)

    token: str
    expires_at: str = Field(alias="expiresAt")


class ClockSet(BaseModel):
    now: datetime = Field(description="UTC instant, e.g. 2030-01-01T00:00:00Z")


class ClockAdvance(BaseModel):
    days: float = 0
    hours: float = 0
    minutes: float = 0
    seconds: float = 0


def _settable(container: ContainerDep) -> SettableClock:
    if not isinstance(container.clock, SettableClock):
        raise Conflict("The clock of this process is the system clock")
    return container.clock


@router.get("/clock", response_model=ClockRead, **access("dev"))
def read_clock(container: ContainerDep) -> ClockRead:
    """The server's current time (moved by the two routes below)."""
    return ClockRead(now=isoformat(container.clock.now()))


@router.put("/clock", response_model=ClockRead, responses=problem_responses(409, 422), **access("dev"))
def set_clock(body: ClockSet, container: ContainerDep) -> ClockRead:
    """Jump the server's clock to an instant; timers that fall due fire once, the queue worker follows."""
    clock = _settable(container)
    clock.set(body.now if body.now.tzinfo else body.now.replace(tzinfo=UTC))
    return ClockRead(now=isoformat(clock.now()))


@router.post("/clock/advance", response_model=ClockRead, responses=problem_responses(409, 422), **access("dev"))
def advance_clock(body: ClockAdvance, container: ContainerDep) -> ClockRead:
    """Move the server's clock forward (e.g. one day) to play a scenario."""
    delta = timedelta(days=body.days, hours=body.hours, minutes=body.minutes, seconds=body.seconds)
    return ClockRead(now=isoformat(_settable(container).advance(delta)))


@router.post("/operator-token", response_model=OperatorToken, response_model_by_alias=True, **access("dev"))
def fresh_operator_token(container: ContainerDep) -> OperatorToken:
    """A fresh local operator token (24 h from the server's clock): the one printed at start lapses once the
    dev clock has been moved a day on."""
    token, expires_at = local_operator.token(container)
    return OperatorToken(token=token, expires_at=isoformat(expires_at))


@router.get("/outbox", responses=problem_responses(404), **access("dev"))
def list_outbox(
    container: ContainerDep,
    brand_id: Annotated[str | None, Query(alias="brandId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Emails the local outbox mailer 'sent', newest first."""
    mailer = container.mailer
    if not hasattr(mailer, "list"):
        raise NotFound("The outbox exists only with POPSELL_MAILER=outbox")
    return mailer.list(brand_id=brand_id, limit=limit)


@router.get("/outbox/{message_id}", responses=problem_responses(404), **access("dev"))
def read_outbox_email(message_id: str, container: ContainerDep) -> dict[str, Any]:
    """One email of the local outbox, whole (subject, text, HTML)."""
    mailer = container.mailer
    email = mailer.get(message_id) if hasattr(mailer, "get") else None
    if email is None:
        raise NotFound("No such email in the outbox")
    return email


@router.get("/push-outbox", responses=problem_responses(404), **access("dev"))
def list_push_outbox(
    container: ContainerDep,
    brand_id: Annotated[str | None, Query(alias="brandId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Push notifications the local outbox notifier 'sent', one per device, newest first."""
    notifier = container.notifier
    if not hasattr(notifier, "list"):
        raise NotFound("The push outbox exists only with POPSELL_NOTIFIER=outbox")
    return notifier.list(brand_id=brand_id, limit=limit)


@router.post("/timers/{name}/run", responses=problem_responses(404), **access("dev"))
def run_timer(
    name: str, container: ContainerDep, dry_run: Annotated[bool, Query(alias="dryRun")] = False
) -> dict[str, Any]:
    """Run one timer job now, at the server's clock; returns its report."""
    job = timer_jobs().get(name)
    if job is None:
        raise NotFound(f"No timer named {name!r}; known: {', '.join(sorted(timer_jobs()))}")
    return job.run(container, dry_run)

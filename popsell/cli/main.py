"""Command line: brands, dev tokens, test emails, timers and queues run by hand (`--now` sets the clock)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from popsell.bootstrap import Container, build_container, set_container
from popsell.cli import backups, directory, gdpr_journal, retention
from popsell.registry import queue_handlers, timer_jobs
from shared.brands import service as brands
from shared.brands.models import BrandCreate
from shared.brands.service import invalid_input
from shared.clock import SettableClock, isoformat, parse_instant
from shared.emails.service import enqueue_email
from shared.errors import DomainError
from shared.identity import manager_users, repository
from shared.messaging.worker import process_once
from shared.store_schema import PLATFORM_SCOPE


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _brand_create(container: Container, args: argparse.Namespace) -> int:
    try:
        data = BrandCreate.model_validate(
            {"id": args.id, "name": args.name, "pro": args.pro, "brandOptIn": args.brand_opt_in,
             "widgetAllowedOrigins": args.widget_origin or [], "allowedDomains": args.allowed_domain or [],
             "homeUrl": args.home_url}
        )
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    brand, key = brands.create(store=container.store, clock=container.clock, data=data,
                               allow_loopback=container.settings.env == "local")
    _print({"brand": brand.id, "integrationKey": key.model_dump(by_alias=True, mode="json")})
    return 0


def _brand_list(container: Container, args: argparse.Namespace) -> int:
    _print(brands.all_brand_ids(store=container.store))
    return 0


def _brand_show(container: Container, args: argparse.Namespace) -> int:
    brand = brands.get(store=container.store, brand_id=args.id)
    data = brand.model_dump(by_alias=True, mode="json")
    data["integrationKeys"] = [{"kid": key["kid"], "createdAt": key["createdAt"]} for key in data["integrationKeys"]]
    _print(data)
    return 0


def _manager_user_create(container: Container, args: argparse.Namespace) -> int:
    scope = PLATFORM_SCOPE if args.level == "operator" else args.brand
    if not scope:
        raise DomainError("--brand is required below the operator level")
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    user = manager_users.create_active(
        store=container.store.for_brand(scope), hasher=container.hasher(scope), email=args.email,
        level=args.level, now=container.clock.now(), password=password,
    )
    _print({"id": user.id, "scope": scope, "level": user.level})
    return 0


def _token(container: Container, args: argparse.Namespace) -> int:
    scope = args.brand or PLATFORM_SCOPE
    user, _ = repository.get_manager_user(store=container.store.for_brand(scope), user_id=args.user)
    if user.status != "active":
        raise DomainError("this Manager user is not active")
    token = container.tokens.issue(
        subject=user.id, audience="manager", brand_id=None if user.level == "operator" else scope,
        level=user.level, now=container.clock.now(), ttl=timedelta(hours=args.ttl_hours),
    )
    print(token)
    return 0


def _email_test(container: Container, args: argparse.Namespace) -> int:
    brand = brands.get(store=container.store, brand_id=args.brand)
    message_id = enqueue_email(
        bus=container.bus, brand_id=brand.id, template="test_email", to_email=args.to, locale=args.locale,
        data={"brand_name": brand.name,
              "privacy_policy_url": brand.privacy_policy_url or container.settings.privacy_policy_url},
        settings=container.settings,
    )
    _print({"messageId": message_id, "queue": "emails"})
    return 0


def _queues_drain(container: Container, args: argparse.Namespace) -> int:
    counts = {}
    for queue, handler in queue_handlers(container).items():
        total = 0
        while (handled := process_once(container.bus, queue, handler)) > 0:
            total += handled
        counts[queue] = total
    _print(counts)
    return 0


def _timer_run(container: Container, args: argparse.Namespace) -> int:
    job = timer_jobs().get(args.name)
    if job is None:
        raise DomainError(f"unknown timer {args.name!r}; known: {', '.join(sorted(timer_jobs()))}")
    _print({"timer": job.name, "now": isoformat(container.clock.now()), "dryRun": args.dry_run,
            "report": job.run(container, args.dry_run)})
    return 0


# Command groups of their own modules: each has `register(commands)` (an argparse subparsers
# object); their handlers take (container, args) like the ones above.
COMMAND_MODULES = (gdpr_journal, retention, backups, directory)


def build_parser() -> argparse.ArgumentParser:
    """The command tree."""
    parser = argparse.ArgumentParser(prog="python -m popsell.cli", description=__doc__)
    parser.add_argument("--now", help="run as if it were this UTC instant, e.g. 2030-01-01T00:00:00Z")
    commands = parser.add_subparsers(dest="command", required=True)

    brand = commands.add_parser("brand", help="create and inspect brands").add_subparsers(dest="action", required=True)
    create = brand.add_parser("create", help="create a brand with the guide's defaults")
    create.add_argument("--id", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--pro", type=int, default=0, choices=[0, 2, 3, 4], help="scenario (the guide's `pro`)")
    create.add_argument("--brand-opt-in", action=argparse.BooleanOptionalAction, default=None)
    create.add_argument("--widget-origin", action="append", help="allowed widget origin (repeatable)")
    create.add_argument("--allowed-domain", action="append", help="allowed target domain (repeatable)")
    create.add_argument("--home-url")
    create.set_defaults(run=_brand_create)
    brand.add_parser("list", help="brand ids").set_defaults(run=_brand_list)
    show = brand.add_parser("show", help="one brand's configuration (no secrets)")
    show.add_argument("--id", required=True)
    show.set_defaults(run=_brand_show)

    users = commands.add_parser("manager-user", help="Manager users").add_subparsers(dest="action", required=True)
    create_user = users.add_parser("create", help="create an active Manager user (the first operator or admin)")
    create_user.add_argument("--level", choices=["viewer", "editor", "admin", "operator"], required=True)
    create_user.add_argument("--brand", help="the brand (not for operators)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password-stdin", action="store_true", help="read a password from standard input")
    create_user.set_defaults(run=_manager_user_create)

    token = commands.add_parser("token", help="issue a Manager token for a stored user (local and support use)")
    token.add_argument("--user", required=True, help="Manager user id")
    token.add_argument("--brand", help="the user's brand (omit for operators)")
    token.add_argument("--ttl-hours", type=float, default=8)
    token.set_defaults(run=_token)

    email = commands.add_parser("email", help="email pipeline").add_subparsers(dest="action", required=True)
    test = email.add_parser("test", help="enqueue a test email")
    test.add_argument("--brand", required=True)
    test.add_argument("--to", required=True)
    test.add_argument("--locale", default="en")
    test.set_defaults(run=_email_test)

    queues = commands.add_parser("queues", help="local queues").add_subparsers(dest="action", required=True)
    queues.add_parser("drain", help="handle every due message now").set_defaults(run=_queues_drain)

    timers = commands.add_parser("timers", help="timer jobs").add_subparsers(dest="action", required=True)
    run = timers.add_parser("run", help="run one timer job now")
    run.add_argument("name", choices=sorted(timer_jobs()))
    run.add_argument("--dry-run", action="store_true", help="report what would happen, change nothing")
    run.set_defaults(run=_timer_run)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors print a one-line message and exit 2."""
    args = build_parser().parse_args(argv)
    clock = SettableClock(parse_instant(args.now)) if args.now else None
    container = build_container(clock=clock)
    set_container(container)
    try:
        return args.run(container, args)
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        set_container(None)

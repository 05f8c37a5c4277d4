"""Email templates: one folder per template and locale, rendered with Jinja2.

Layout: `templates/<template>/<locale>/{subject.txt, body.txt, body.html}` plus
`templates/<template>/sample.json` (example data, for previews and tests). Every body extends
`templates/_layout/<locale>/base.{txt,html}`, whose footer sits outside any block so no
template can drop it: it always names the brand and links its privacy policy, and, in an email to
a contact (`rights_url` in the data), links their rights page and the unsubscribe link.
HTML is autoescaped; a variable missing from `data` is an error, never an empty string.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    UndefinedError,
    pass_context,
    select_autoescape,
)

from shared.config import Settings
from shared.errors import InvalidInput
from shared.ports.mailer import RenderedEmail

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_LOCALE = "en"

_TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))?$")

_MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
}


class UnknownTemplate(InvalidInput):
    """No template of that name ships with the app."""

    code = "unknown-email-template"
    title = "Unknown email template"


class TemplateDataError(InvalidInput):
    """The data given does not render the template (a variable is missing or malformed)."""

    code = "email-template-data"
    title = "The email data does not fit the template"


@cache
def available_templates() -> tuple[str, ...]:
    """The template ids that ship with the app."""
    return tuple(
        sorted(path.name for path in TEMPLATES_DIR.iterdir() if path.is_dir() and _TEMPLATE_ID.match(path.name))
    )


@cache
def available_locales(template: str) -> tuple[str, ...]:
    """The locales one template is written in; raises UnknownTemplate."""
    if template not in available_templates():
        raise UnknownTemplate(f"unknown email template {template!r}")
    folder = TEMPLATES_DIR / template
    return tuple(sorted(path.parent.name for path in folder.glob("*/subject.txt")))


def locale_candidates(locale: str) -> list[str]:
    """The locales to try, most specific first: "fr_fr" → ["fr-FR", "fr", "en"]."""
    match = _LOCALE.match(locale.strip())
    candidates = []
    if match:
        language, region = match.group(1).lower(), match.group(2)
        if region:
            candidates.append(f"{language}-{region.upper() if len(region) == 2 else region}")
        candidates.append(language)
    candidates.append(DEFAULT_LOCALE)
    return list(dict.fromkeys(candidates))


def resolve_locale(template: str, locale: str) -> str:
    """The locale a template will be rendered in, falling back "fr-FR" → "fr" → "en"."""
    locales = available_locales(template)
    for candidate in locale_candidates(locale):
        if candidate in locales:
            return candidate
    raise UnknownTemplate(f"email template {template!r} has no {DEFAULT_LOCALE!r} version")


@cache
def sample_data(template: str) -> dict[str, Any]:
    """The example data of a template (previews, the CLI test email, tests)."""
    available_locales(template)
    path = TEMPLATES_DIR / template / "sample.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()


@pass_context
def _format_date(context: Any, value: Any) -> str:
    """A date written out in the email's language: "1 March 2030", "1 mars 2030"."""
    day = _parse_date(value)
    language = str(context.get("locale", DEFAULT_LOCALE)).split("-")[0]
    months = _MONTHS.get(language, _MONTHS[DEFAULT_LOCALE])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # HTML escapes every variable; subject and text bodies are plain text and must not.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["format_date"] = _format_date
    return env


_ENV = _environment()


def _check_url(name: str, value: Any) -> str:
    text = str(value)
    # A footer link must be a real web page, never a javascript: or relative URL.
    if not text.startswith(("https://", "http://")):
        raise TemplateDataError(f"{name} must be an http(s) URL")
    return text


def render_email(
    *,
    message_id: str,
    brand_id: str,
    template: str,
    locale: str,
    to_email: str,
    to_name: str | None,
    data: dict[str, Any],
    settings: Settings,
) -> RenderedEmail:
    """Render subject, text and HTML; raises UnknownTemplate or TemplateDataError."""
    resolved = resolve_locale(template, locale)
    context: dict[str, Any] = {
        "brand_name": settings.mail_from_name,
        "privacy_policy_url": settings.privacy_policy_url,
        **data,  # a brand passes its own name and privacy-policy URL here
        "to_name": to_name,
        "locale": resolved,
    }
    for name in ("privacy_policy_url", "rights_url", "unsubscribe_url"):  # the footer's links
        if name in context:
            context[name] = _check_url(name, context[name])
    folder = f"{template}/{resolved}"
    try:
        subject = " ".join(_ENV.get_template(f"{folder}/subject.txt").render(context).split())
        context["subject"] = subject
        text = _ENV.get_template(f"{folder}/body.txt").render(context).strip() + "\n"
        html = _ENV.get_template(f"{folder}/body.html").render(context)
    except UndefinedError as exc:
        # Its message names the missing variable, never a value: safe to carry in the error.
        raise TemplateDataError(f"template {template!r} ({resolved}): {exc}"[:300]) from exc
    except (TemplateError, ValueError, TypeError) as exc:
        # Other messages may quote the data; keep only the kind of failure.
        raise TemplateDataError(f"template {template!r} ({resolved}): {type(exc).__name__}") from exc
    return RenderedEmail(
        message_id=message_id,
        brand_id=brand_id,
        to_email=to_email,
        to_name=to_name,
        from_email=settings.mail_from_email,
        from_name=str(context["brand_name"]),
        subject=subject,
        text=text,
        html=html,
        template=template,
        locale=resolved,
    )

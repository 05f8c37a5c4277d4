"""PII-free logging: every record is scrubbed of emails, IPs and phone-like numbers, field by field.

Code logs ids, never personal data; this is the safety net that holds for every logging path
(`%s` args, f-strings, exceptions), not only one formatting style.

Redaction runs on each field of a record on its own (the message template, then every argument),
never over the rendered line: a status code next to a duration, or digits of two ids side by side,
can no longer add up to something that looks like a phone number. Arguments marked `Id(...)` are
identifiers (order ids, request ids, hashes, paths already masked): they are still cleared of
emails and IP addresses, which are never ids, but not of digit runs, which often are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# Unicode-aware: "josé@exämple.com" is an address too.
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Full form (3+ colons) or compressed form ("::"); times like 13:37:15 have only two colons.
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}(?![\w:])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{0,4}(?![\w:])"
)
_PHONE = re.compile(r"(?<!\w)\+?\d[\d \-().]{8,}\d(?!\w)")


class Id(str):
    """A logged identifier (ours or a brand's: order id, request id, hash, masked path): digits stay."""

    __slots__ = ()


def scrub_identifier(text: str) -> str:
    """Replace emails and IP addresses, the personal data an identifier can never be."""
    # The character tests skip the patterns that cannot match: every request writes a line.
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    if ":" in text:
        text = _IPV6.sub("[ip]", text)
    if "." in text:
        text = _IPV4.sub("[ip]", text)
    return text


def scrub(text: str) -> str:
    """Replace emails, IP addresses and phone numbers by placeholders."""
    text = scrub_identifier(text)
    return _PHONE.sub("[phone]", text) if len(text) >= 10 else text


def _clean(value: Any) -> Any:
    """One argument, redacted on its own; numbers stay numbers so `%d` and `%.1f` still format."""
    if isinstance(value, Id):
        return scrub_identifier(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return scrub(str(value))


@lru_cache(maxsize=2048)
def _template(text: str) -> str:
    # Templates are mostly the code's own literals, logged again and again (an access line a request).
    return scrub(text)


def _render(record: logging.LogRecord) -> str:
    args = record.args
    if not args:  # an f-string or a plain text: scrubbed as it is, never kept
        return scrub(str(record.msg))
    template = _template(str(record.msg))
    if isinstance(args, Mapping):
        return template % {key: _clean(value) for key, value in args.items()}
    return template % tuple(_clean(value) for value in args)


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record field by field, scrubbed, and drop the args so nothing re-renders them."""
    try:
        message = _render(record)
    except Exception:  # a broken format string must not leak its raw args either
        message = scrub(str(record.msg))
    record.msg = message
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        # Exception texts can quote input: keep the type and a scrubbed message, no frames' locals.
        exc = record.exc_info[1]
        record.msg = f"{record.msg} [{type(exc).__name__}: {scrub(str(exc))}]"
        record.exc_info = None
        record.exc_text = None
    return record


_installed = False


def configure_logging(level: str = "INFO") -> None:
    """Scrub every log record at creation, whatever logger or handler it goes to (idempotent).

    A record factory, unlike a handler filter, also covers handlers that the Functions host or
    uvicorn attach after us.
    """
    global _installed
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    # Client libraries log request URLs and headers at INFO; URLs can carry tokens or addresses.
    for noisy in ("httpx", "httpcore", "azure", "urllib3", "uamqp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if _installed:
        return
    # The logging HOWTO's "Optimization": nothing we format uses the thread, the process or the caller's
    # frame, and gathering them costs more than the rest of an access line (a line a request).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented switch for the caller lookup
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True

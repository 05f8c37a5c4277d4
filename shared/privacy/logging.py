"""PII-free logging: every record is scrubbed of emails, IPs and phone-like numbers.

Code logs ids, never personal data; this filter is the safety net that holds for every
logging path (`%s` args, f-strings, exceptions), not only one formatting style.
"""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Full form (3+ colons) or compressed form ("::"); times like 13:37:15 have only two colons.
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}(?![\w:])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{0,4}(?![\w:])"
)
_PHONE = re.compile(r"(?<!\w)\+?\d[\d \-().]{8,}\d(?!\w)")


def scrub(text: str) -> str:
    """Replace emails, IP addresses and phone numbers by placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _IPV6.sub("[ip]", text)
    text = _IPV4.sub("[ip]", text)
    return _PHONE.sub("[phone]", text)


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record's message, scrub it, and drop the args so nothing re-renders them."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not leak its raw args either
        message = str(record.msg)
    record.msg = scrub(message)
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
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True

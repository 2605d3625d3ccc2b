"""Logging filters that keep patient identifiers out of log files.

A URL's query string can carry what a person typed: a name, an MRN, a birth date (FHIR searches such as
``Patient?identifier=…`` are GET requests by the standard).  Django's development server logs every 4xx
and 5xx request line (logger ``django.server``), and any other logger may be handed a URL.  This filter,
attached to the project's handlers and to Django's request loggers in ``settings.LOGGING``, cuts every
query string from the message before it is written, for every path: ``GET /fhir/Patient?name=x`` becomes
``GET /fhir/Patient?…``.  The production server's access log does not write query strings at all (see
``oncoliaison.gunicorn_conf``).
"""

from __future__ import annotations

import logging
import re
import traceback

from django.http import HttpRequest

# A path (or absolute URL) followed by a query string, up to white space or a quote; the groups of a URL
# pattern in a logged route (``[/](?P<rtype>…)``) are left alone.
_QUERY = re.compile(r"(?P<path>(?:https?://[^\s/?\"']+)?/[^\s?\"']*)\?(?!P<|[:=!<$])[^\s\"']+")
REDACTED = "?…"


def strip_query_strings(text: str) -> str:
    return _QUERY.sub(lambda m: m["path"] + REDACTED, text)


class StripQueryStrings(logging.Filter):
    """Rewrites the record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = strip_query_strings(record.msg)
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(strip_query_strings(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: strip_query_strings(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


_errors = logging.getLogger("oncoliaison.errors")


def log_unexpected(request: HttpRequest, exc: BaseException, door: str) -> None:
    """Log an unexpected error of a request by type and code path only, never its message: the text of an
    exception can quote data (a database error repeats the offending value).  Every door uses this."""
    route = getattr(getattr(request, "resolver_match", None), "route", "?")
    _errors.error("Unhandled %s in %s %s %s\n%s", type(exc).__name__, door, request.method, route,
                  "".join(traceback.format_tb(exc.__traceback__)))

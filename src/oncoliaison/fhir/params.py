"""Parsing FHIR search parameter values into Django filters (token, string, date, reference).

Each helper takes ONE value (the search view splits comma-separated values, which are OR-ed, and
AND-s repeated parameters) and returns a ``Q``.  A value that cannot be understood raises a 400.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from django.db.models import Q
from django.utils import timezone

from oncoliaison.core.ids import parse_id

from .outcome import FhirError

_DATE = re.compile(r"^(?P<prefix>eq|ne|lt|gt|le|ge)?(?P<value>\d{4}(-\d{2}(-\d{2})?)?)$")
_DATETIME = re.compile(
    r"^(?P<prefix>eq|ne|lt|gt|le|ge)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)
NOTHING = Q(pk__in=[])


def bad_value(name: str, value: str, hint: str) -> FhirError:
    return FhirError(400, f"Search parameter '{name}': cannot use value '{value[:60]}'. {hint}",
                     expression=[name])


def token(value: str) -> tuple[str | None, str]:
    """``system|code`` -> (system, code); ``|code`` -> ("", code); ``code`` -> (None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def reference_id(name: str, value: str, resource_type: str) -> int:
    """``Type/123``, an absolute ``.../Type/123`` or ``123`` -> 123."""
    raw = value.rstrip("/")
    if "/" in raw:
        parts = raw.split("/")
        if parts[-2] != resource_type:
            raise bad_value(name, value, f"Use a reference to {resource_type}, e.g. {resource_type}/123.")
        raw = parts[-1]
    pk = parse_id(raw)
    # A well-formed reference to an id that cannot exist here (not a number, or beyond what the database
    # holds) matches nothing: no error, and never a number the database driver cannot take.
    return -1 if pk is None else pk


def ids(value: str) -> Q:
    pk = parse_id(value)
    return NOTHING if pk is None else Q(pk=pk)


def _date_bounds(text: str) -> tuple[dt.date, dt.date]:
    """A date of year, month or day precision -> (first day, last day)."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    day = dt.date(parts[0], parts[1], parts[2])
    return day, day


def _range_q(field: str, prefix: str, low: object, high: object, *, high_inclusive: bool) -> Q:
    upper = f"{field}__lte" if high_inclusive else f"{field}__lt"
    not_upper = f"{field}__gt" if high_inclusive else f"{field}__gte"
    if prefix == "eq":
        return Q(**{f"{field}__gte": low, upper: high})
    if prefix == "ne":
        return Q(**{f"{field}__lt": low}) | Q(**{not_upper: high})
    if prefix == "lt":
        return Q(**{f"{field}__lt": low})
    if prefix == "le":
        return Q(**{upper: high})
    if prefix == "gt":
        return Q(**{not_upper: high})
    return Q(**{f"{field}__gte": low})  # ge


def date_filter(field: str) -> Callable[[str, str], Q]:
    """A ``date`` parameter over a DateField; prefixes eq ne lt gt le ge; precision year, month or day."""

    def apply(name: str, value: str) -> Q:
        m = _DATE.match(value)
        if not m:
            raise bad_value(name, value, "Use YYYY, YYYY-MM or YYYY-MM-DD with an optional prefix eq, ne, lt, "
                                         "gt, le or ge.")
        try:
            low, high = _date_bounds(m["value"])
        except (ValueError, OverflowError):
            raise bad_value(name, value, "That is not a calendar date in years 1 to 9998.") from None
        return _range_q(field, m["prefix"] or "eq", low, high, high_inclusive=True)

    return apply


def datetime_filter(field: str) -> Callable[[str, str], Q]:
    """A ``date`` parameter over a DateTimeField.  Dates are days in the server's time zone."""

    def apply(name: str, value: str) -> Q:
        m = _DATETIME.match(value)
        if not m:
            raise bad_value(name, value, "Use a date (YYYY-MM-DD) or a dateTime with a time zone, with an optional "
                                         "prefix eq, ne, lt, gt, le or ge.")
        text, prefix = m["value"], m["prefix"] or "eq"
        try:
            if "T" not in text:
                first, last = _date_bounds(text)
                tz = timezone.get_current_timezone()
                low = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
                high = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=timezone.get_current_timezone())
                low = moment
                step = dt.timedelta(seconds=1) if moment.microsecond == 0 else dt.timedelta(microseconds=1)
                high = moment + step
        except (ValueError, OverflowError):  # not a date, or a bound beyond year 9999
            raise bad_value(name, value, "That is not a valid date or time in years 1 to 9998.") from None
        return _range_q(field, prefix, low, high, high_inclusive=False)

    return apply


def string_filter(fields: Sequence[str], *, lookup: str = "istartswith") -> Callable[[str, str], Q]:
    """FHIR string search: case-insensitive starts-with on any of ``fields``."""

    def apply(name: str, value: str) -> Q:
        q = Q()
        for field in fields:
            q |= Q(**{f"{field}__{lookup}": value.strip()})
        return q

    return apply


def words_filter(fields: Sequence[str]) -> Callable[[str, str], Q]:
    """Every word of the value must start one of ``fields`` (lower-cased search copies)."""

    def apply(name: str, value: str) -> Q:
        q = Q()
        for word in value.split():
            w = word.casefold()
            any_field = Q()
            for field in fields:
                any_field |= Q(**{f"{field}__startswith": w})
            q &= any_field
        return q

    return apply


def reference_filter(field: str, resource_type: str) -> Callable[[str, str], Q]:
    def apply(name: str, value: str) -> Q:
        return Q(**{field: reference_id(name, value, resource_type)})

    return apply


def code_filter(field: str, system: str, allowed: Sequence[str]) -> Callable[[str, str], Q]:
    """A token over a field holding codes of one code system."""

    def apply(name: str, value: str) -> Q:
        sys, code = token(value)
        if sys not in (None, system):
            return NOTHING
        if code not in allowed:
            raise bad_value(name, value, f"Known codes: {', '.join(allowed)}.")
        return Q(**{field: code})

    return apply


def boolean_filter(field: str) -> Callable[[str, str], Q]:
    def apply(name: str, value: str) -> Q:
        if value not in {"true", "false"}:
            raise bad_value(name, value, "Use true or false.")
        return Q(**{field: value == "true"})

    return apply

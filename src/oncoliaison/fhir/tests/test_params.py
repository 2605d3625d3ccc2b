"""Search parameter value parsing (pure functions: no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from oncoliaison.core.versions import version_from_etag as _version_from
from oncoliaison.fhir import params
from oncoliaison.fhir.outcome import FhirError
from oncoliaison.fhir.views import _split


def test_token_forms():
    assert params.token("http://x|123") == ("http://x", "123")
    assert params.token("|123") == ("", "123")
    assert params.token("123") == (None, "123")


def test_reference_forms():
    assert params.reference_id("patient", "Patient/12", "Patient") == 12
    assert params.reference_id("patient", "https://h/fhir/Patient/12", "Patient") == 12
    assert params.reference_id("patient", "12", "Patient") == 12
    assert params.reference_id("patient", "abc", "Patient") == -1
    with pytest.raises(FhirError) as err:
        params.reference_id("patient", "Group/12", "Patient")
    assert err.value.status == 400


@pytest.mark.parametrize(("value", "expected"), [
    ("1961", Q(d__gte=dt.date(1961, 1, 1), d__lte=dt.date(1961, 12, 31))),
    ("1961-02", Q(d__gte=dt.date(1961, 2, 1), d__lte=dt.date(1961, 2, 28))),
    ("1960-12", Q(d__gte=dt.date(1960, 12, 1), d__lte=dt.date(1960, 12, 31))),
    ("eq1961-04-02", Q(d__gte=dt.date(1961, 4, 2), d__lte=dt.date(1961, 4, 2))),
    ("lt1961-04-02", Q(d__lt=dt.date(1961, 4, 2))),
    ("le1961-04", Q(d__lte=dt.date(1961, 4, 30))),
    ("gt1961", Q(d__gt=dt.date(1961, 12, 31))),
    ("ge1961-04-02", Q(d__gte=dt.date(1961, 4, 2))),
    ("ne1961", Q(d__lt=dt.date(1961, 1, 1)) | Q(d__gt=dt.date(1961, 12, 31))),
])
def test_date_prefixes_and_precision(value, expected):
    assert params.date_filter("d")("birthdate", value) == expected


@pytest.mark.parametrize("value", ["1961-13-01", "1961-02-30", "sa1961", "61-01-01", "today", "1961-4-2"])
def test_bad_dates_are_400(value):
    with pytest.raises(FhirError) as err:
        params.date_filter("d")("birthdate", value)
    assert err.value.status == 400


def test_datetime_values():
    utc = dt.UTC
    q = params.datetime_filter("t")("date", "ge2026-11-23T10:00:00Z")
    assert q == Q(t__gte=dt.datetime(2026, 11, 23, 10, tzinfo=utc))
    q = params.datetime_filter("t")("date", "lt2026-11-23T10:00:00+01:00")
    assert q == Q(t__lt=dt.datetime(2026, 11, 23, 9, tzinfo=utc))
    day = params.datetime_filter("t")("date", "2026-11-23")
    (low, high) = (day.children[0][1], day.children[1][1])
    assert high - low == dt.timedelta(days=1) and low.tzinfo is not None
    with pytest.raises(FhirError):
        params.datetime_filter("t")("date", "2026-11-23T25:00:00Z")


def test_commas_split_values_unless_escaped():
    assert _split("a,b") == ["a", "b"]
    assert _split(r"a\,b,c") == ["a,b", "c"]


def test_etag_forms():
    assert _version_from('W/"3"') == 3
    assert _version_from('"3"') == 3
    assert _version_from("3") == 3
    assert _version_from('W/"x"') is None

"""The adherence page and JSON API: manual entry, the figure's basis, and what others may not see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.adherence.models import AdherenceMeasure, Dispense, DispenseStatus, Regimen
from oncoliaison.core import clock
from oncoliaison.testing import Cast

TODAY = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


FILL = {"medication_code": "194000", "medication_display": "capecitabine",
        "days_supply": "30", "quantity": "112", "quantity_unit": "tablet"}


def test_navigator_records_dispenses_and_reads_the_basis(cast: Cast) -> None:
    nav = _client(cast.navigator)
    assert "Treatment adherence" in nav.get(reverse("patients:detail", args=[cast.pat.pk])).content.decode()
    url = reverse("adherence:dispense_add", args=[cast.pat.pk])
    for day in ("2026-01-02", "2026-02-01"):
        r = nav.post(url, {**FILL, "dispensed_on": day})
        assert r.status_code == 302 and r["Location"] == reverse("adherence:patient", args=[cast.pat.pk])
    page = nav.get(reverse("adherence:patient", args=[cast.pat.pk])).content.decode()
    assert "33.3 %" in page and "2026-01-02" in page and "follow-up task raised" in page
    assert ">60<" in page and ">180<" in page  # days covered, days in the treatment period
    bad = nav.post(url, {**FILL, "dispensed_on": "2026-07-30"}, follow=True)
    assert "future" in bad.content.decode() and Dispense.objects.count() == 2


def test_regimen_and_entered_in_error(cast: Cast) -> None:
    nav = _client(cast.navigator)
    r = nav.post(reverse("adherence:regimen_set", args=[cast.pat.pk]),
                 {"medication_code": "194000", "medication_display": "capecitabine", "starts_on": "2026-01-02",
                  "days_on": "14", "days_off": "7"})
    assert r.status_code == 302 and Regimen.objects.get().days_off == 7
    nav.post(reverse("adherence:dispense_add", args=[cast.pat.pk]), {**FILL, "dispensed_on": "2026-01-02"})
    d = Dispense.objects.get()
    assert d.regimen is not None
    r = nav.post(reverse("adherence:dispense_error", args=[d.pk]), {"version": str(d.version)})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == DispenseStatus.ENTERED_IN_ERROR
    assert AdherenceMeasure.objects.get(year=2026).index_date is None


def test_other_organisations_patients_and_roles_are_refused(cast: Cast) -> None:
    _client(cast.navigator).post(reverse("adherence:dispense_add", args=[cast.pat.pk]),
                                 {**FILL, "dispensed_on": "2026-01-02"})
    d = Dispense.objects.get()
    outsider = _client(cast.outsider)
    assert outsider.get(reverse("adherence:patient", args=[cast.pat.pk])).status_code == 404
    assert outsider.post(reverse("adherence:dispense_error", args=[d.pk])).status_code == 404
    assert outsider.post(reverse("adherence:dispense_add", args=[cast.pat.pk]),
                         {**FILL, "dispensed_on": "2026-01-03"}).status_code == 404
    assert _client(cast.patient_user).get(reverse("adherence:patient", args=[cast.pat.pk])).status_code == 403
    assert Dispense.objects.count() == 1


def test_json_api(cast: Cast) -> None:
    nav = _client(cast.navigator)
    body = {**FILL, "days_supply": 30, "quantity": "112", "dispensed_on": "2026-01-02",
            "source_system": "urn:pharmacy", "source_id": "rx-9"}
    r = nav.post(f"/api/patients/{cast.pat.pk}/dispenses", body, content_type="application/json")
    assert r.status_code == 201, r.content
    did = r.json()["id"]
    assert nav.post(f"/api/patients/{cast.pat.pk}/dispenses", body, content_type="application/json").json()["id"] == did
    assert nav.get(f"/api/dispenses/{did}").json()["source_id"] == "rx-9"
    assert len(nav.get(f"/api/patients/{cast.pat.pk}/dispenses").json()) == 1
    (pdc,) = nav.get(f"/api/patients/{cast.pat.pk}/adherence").json()
    assert pdc["index_date"] == "2026-01-02" and pdc["in_denominator"] is False and pdc["covered_days"] == 30
    outsider = _client(cast.outsider)
    assert outsider.get(f"/api/dispenses/{did}").status_code == 404
    assert outsider.get(f"/api/patients/{cast.pat.pk}/adherence").status_code == 404
    assert nav.post(f"/api/patients/{cast.pat.pk}/dispenses", {**body, "days_supply": 0, "source_id": ""},
                    content_type="application/json").status_code == 422

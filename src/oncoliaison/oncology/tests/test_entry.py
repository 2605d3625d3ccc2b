"""Entering and correcting the cancer record in the pages: services (audit, version check, history kept) and
the pages (pickers, provenance, links, codes shown as their display text)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.core import clock
from oncoliaison.core.errors import Forbidden, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.oncology import codes, entry, entry_rules
from oncoliaison.oncology.models import (
    CancerCondition,
    CancerRecordRevision,
    CancerStage,
    ClinicalObservation,
    PerformanceStatus,
)
from oncoliaison.oncology.selectors import cancer_record_for
from oncoliaison.testing import Cast

TODAY = dt.date(2026, 6, 1)


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def lung(cast: Cast) -> CancerCondition:
    return CancerCondition.objects.create(patient=cast.pat, code="254637007", display="Non-small cell lung cancer",
                                          diagnosed_on=dt.date(2026, 1, 5))


# --- rules ------------------------------------------------------------------------------------------------------


def test_ecog_grades_carry_the_published_definition() -> None:
    fields, errors = entry_rules.performance_fields({"score": 2, "effective_on": TODAY}, today=TODAY)
    assert errors == {}
    # Oken et al. 1982, as published by ECOG-ACRIN
    assert fields["interpretation"] == ("Ambulatory and capable of all selfcare but unable to carry out any work "
                                        "activities. Up and about more than 50% of waking hours")
    assert set(codes.ECOG_DEFINITIONS) == {0, 1, 2, 3, 4, 5} and codes.ECOG_DEFINITIONS[5] == "Dead"
    _f, errors = entry_rules.performance_fields({"score": 6, "effective_on": TODAY}, today=TODAY)
    assert errors == {"score": ["ECOG performance status must be 0 to 5."]}


def test_entry_rules_refuse_codes_outside_the_tables_and_future_dates() -> None:
    _f, errors = entry_rules.condition_fields({"code": "999", "diagnosed_on": TODAY + dt.timedelta(days=1)},
                                              today=TODAY)
    assert errors["code"] == ["Choose the diagnosis from the list."]
    assert errors["diagnosed_on"] == ["The date of diagnosis cannot be in the future."]
    rows, errors = entry_rules.stage_rows({"stage_type": "clinical", "effective_on": TODAY}, today=TODAY)
    assert rows == [] and "group" in errors
    rows, errors = entry_rules.stage_rows({"stage_type": "clinical", "t": "T3", "n": "N0", "m": "M0", "group": "IIB",
                                           "effective_on": TODAY}, today=TODAY)
    assert errors == {}
    assert [(r["code"], r["value_display"], r["value_code"]) for r in rows] == [
        ("399504009", "cT3", "1228938002"), ("399534004", "cN0", "1229967007"), ("399387003", "cM0", "1229901006"),
        ("399537006", "IIB", "1222769001")]
    _f, errors = entry_rules.marker_fields({"test": "85337-4", "value": 3, "effective_on": TODAY}, today=TODAY)
    assert "answer" in errors and "value" in errors


# --- services ------------------------------------------------------------------------------------------------------


def test_entering_performance_status_answers_the_summary_open_issue(cast: Cast, lung: CancerCondition) -> None:
    actor = cast.actor(cast.oncologist)
    before = cancer_record_for(actor, cast.pat.pk)
    assert any("performance status" in i for i in before.open_issues)
    [row] = entry.record_enter(actor=actor, record_type="performance", patient_id=cast.pat.pk,
                               values={"score": 1, "effective_on": clock.today()})
    assert isinstance(row, PerformanceStatus) and row.entered_by_id == cast.oncologist.pk and row.score == 1
    after = cancer_record_for(actor, cast.pat.pk)
    assert not any("performance status" in i for i in after.open_issues)
    assert AuditEvent.objects.filter(action="create", resource_type="Observation", patient_id=cast.pat.pk,
                                     resource_id=str(row.pk)).exists()


def test_entry_is_for_care_staff_of_patients_they_may_see(cast: Cast, lung: CancerCondition) -> None:
    values = {"score": 1, "effective_on": clock.today()}
    with pytest.raises(Forbidden):
        entry.record_enter(actor=cast.actor(cast.researcher), record_type="performance", patient_id=cast.pat.pk,
                           values=values)
    with pytest.raises(Forbidden):
        entry.record_enter(actor=cast.actor(cast.patient_user), record_type="performance", patient_id=cast.pat.pk,
                           values=values)
    with pytest.raises(NotFound):
        entry.record_enter(actor=cast.actor(cast.outsider), record_type="performance", patient_id=cast.pat.pk,
                           values=values)
    assert not PerformanceStatus.objects.exists()


def test_correction_keeps_the_previous_version_and_checks_it(cast: Cast, lung: CancerCondition) -> None:
    actor = cast.actor(cast.oncologist)
    rows = entry.record_enter(actor=actor, record_type="stage", patient_id=cast.pat.pk,
                              values={"stage_type": "clinical", "t": "T3", "group": "IIB", "condition": lung.pk,
                                      "effective_on": clock.today()})
    t_row = next(r for r in rows if isinstance(r, CancerStage) and r.kind == "T")
    with pytest.raises(ValidationFailed):
        entry.record_correct(actor=actor, record_type="stage", record_id=t_row.pk, reason=" ",
                             values={"stage_type": "clinical", "value": "T2", "effective_on": clock.today()},
                             expected_version=1)
    fixed = entry.record_correct(actor=actor, record_type="stage", record_id=t_row.pk, reason="Typo: CT said T2",
                                 values={"stage_type": "clinical", "value": "T2", "effective_on": clock.today()},
                                 expected_version=1)
    assert isinstance(fixed, CancerStage)
    assert (fixed.value_display, fixed.status, fixed.version) == ("cT2", "amended", 2)
    revision = CancerRecordRevision.objects.get(record_type="stage", record_id=t_row.pk)
    assert revision.version == 1 and revision.snapshot["value_display"] == "cT3"
    assert revision.reason == "Typo: CT said T2" and revision.changed_by_id == cast.oncologist.pk
    with pytest.raises(PreconditionFailed):  # someone else's correction in between
        entry.record_correct(actor=actor, record_type="stage", record_id=t_row.pk, reason="again",
                             values={"stage_type": "clinical", "value": "T1", "effective_on": clock.today()},
                             expected_version=1)


def test_entered_in_error_is_kept_but_leaves_the_summary(cast: Cast, lung: CancerCondition) -> None:
    actor = cast.actor(cast.navigator)
    [marker] = entry.record_enter(actor=actor, record_type="marker", patient_id=cast.pat.pk,
                                  values={"test": "2857-1", "value": 4.2, "effective_on": clock.today()})
    assert isinstance(marker, ClinicalObservation) and marker.value_unit == "ng/mL"
    entry.record_mark_in_error(actor=actor, record_type="marker", record_id=marker.pk, reason="Wrong patient",
                               expected_version=1)
    marker.refresh_from_db()
    assert marker.status == "entered-in-error" and marker.version == 2
    assert cancer_record_for(actor, cast.pat.pk).tumor_markers == []
    entry.record_mark_in_error(actor=actor, record_type="condition", record_id=lung.pk, reason="Duplicate",
                               expected_version=1)
    assert cancer_record_for(actor, cast.pat.pk).cancers == []
    assert CancerCondition.objects.filter(pk=lung.pk, verification_status="entered-in-error").exists()


# --- pages ----------------------------------------------------------------------------------------------------------


def test_summary_offers_entry_shows_provenance_and_code_names(client: Client, cast: Cast,
                                                              lung: CancerCondition) -> None:
    _as(client, cast.oncologist)
    html = client.get(reverse("oncology:summary", args=[cast.pat.pk])).content.decode()
    assert "http://snomed.info/sct" not in html and "SNOMED CT 254637007" in html
    assert reverse("oncology:record_new", args=[cast.pat.pk, "performance"]) in html
    assert reverse("oncology:record_correct", args=["condition", lung.pk]) in html
    page = client.get(reverse("oncology:record_new", args=[cast.pat.pk, "performance"]))
    assert page.status_code == 200
    assert "Capable of only limited selfcare, confined to bed or chair more than 50% of waking hours" in page.content.decode()
    response = client.post(reverse("oncology:record_new", args=[cast.pat.pk, "performance"]),
                           {"score": "3", "effective_on": clock.today().isoformat()})
    assert response.status_code == 302
    html = client.get(reverse("oncology:summary", args=[cast.pat.pk])).content.decode()
    assert "Entered by Sam Oncologist" in html and "ECOG 3" in html


def test_entry_page_reports_bad_input_and_changes_nothing(client: Client, cast: Cast, lung: CancerCondition) -> None:
    _as(client, cast.oncologist)
    response = client.post(reverse("oncology:record_new", args=[cast.pat.pk, "stage"]),
                           {"stage_type": "clinical", "effective_on": clock.today().isoformat()})
    assert response.status_code == 400
    assert "Enter at least one of T, N, M or the stage group." in response.content.decode()
    assert not CancerStage.objects.exists()


def test_correction_page_corrects_and_withdraws(client: Client, cast: Cast, lung: CancerCondition) -> None:
    _as(client, cast.oncologist)
    url = reverse("oncology:record_correct", args=["condition", lung.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "correct", "category": "primary", "code": "254637007",
                                 "body_site": "39607008", "histology": "8140/3", "diagnosed_on": "2026-01-05",
                                 "clinical_status": "active", "verification_status": "confirmed",
                                 "correct-reason": "Pathology report added the histology", "correct-version": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    lung.refresh_from_db()
    assert (lung.histology_display, lung.histology_system, lung.version) == (
        "Adenocarcinoma, NOS", "http://terminology.hl7.org/CodeSystem/icd-o-3", 2)
    stale = client.post(url, {"action": "in_error", "in_error-reason": "Duplicate", "in_error-version": "1"})
    assert stale.status_code == 400 and "changed by someone else" in stale.content.decode()
    done = client.post(url, {"action": "in_error", "in_error-reason": "Duplicate", "in_error-version": "2"})
    assert done.status_code == 302
    assert CancerRecordRevision.objects.filter(record_id=lung.pk).count() == 2


def test_entry_pages_hide_other_organisations_and_require_the_right_role(client: Client, cast: Cast,
                                                                        lung: CancerCondition) -> None:
    _as(client, cast.outsider)
    assert client.get(reverse("oncology:record_new", args=[cast.pat.pk, "performance"])).status_code == 404
    assert client.get(reverse("oncology:record_correct", args=["condition", lung.pk])).status_code == 404
    assert client.get(reverse("oncology:record_correct", args=["condition", 987654])).status_code == 404
    _as(client, cast.researcher)
    assert client.get(reverse("oncology:record_new", args=[cast.pat.pk, "performance"])).status_code == 403


def test_patient_page_links_the_oncology_summary(client: Client, cast: Cast, lung: CancerCondition) -> None:
    _as(client, cast.navigator)
    html = client.get(reverse("patients:detail", args=[cast.pat.pk])).content.decode()
    assert reverse("oncology:summary", args=[cast.pat.pk]) in html
    assert "SNOMED CT 254637007" in html

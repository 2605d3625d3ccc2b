"""Recording dispenses and regimens, the stored figures, the navigator's follow-up task and access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.adherence import selectors, services
from oncoliaison.adherence.models import AdherenceMeasure, Dispense, DispenseStatus
from oncoliaison.careplans.models import CarePlan, Task
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent

CAPECITABINE = ("194000", "capecitabine")
TODAY = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):  # type: ignore[no-untyped-def]
    from oncoliaison.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _fill(day: dt.date, days: int = 30, **kw: object) -> services.DispenseData:
    return services.DispenseData(*CAPECITABINE, dispensed_on=day, days_supply=days, **kw)  # type: ignore[arg-type]


def test_a_fill_is_recorded_audited_and_its_figures_computed(cast):
    nav = actor_for_user(cast.navigator)
    d = services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 1, 5)))
    assert d.organization_id == cast.lead.pk and d.created_by_id == cast.navigator.pk
    assert AuditEvent.objects.filter(resource_type="MedicationDispense", resource_id=str(d.pk), action="create").exists()
    (m,) = AdherenceMeasure.objects.filter(patient=cast.pat)
    assert (m.year, m.index_date, m.in_denominator, m.adherent) == (2026, dt.date(2026, 1, 5), False, None)
    assert m.period_end == TODAY


def test_every_year_with_fills_and_the_current_year_have_a_figure(cast):
    nav = actor_for_user(cast.navigator)
    for day in (dt.date(2024, 3, 1), dt.date(2024, 4, 1)):
        services.dispense_record(actor=nav, patient=cast.pat, data=_fill(day))
    years = {m.year: m for m in AdherenceMeasure.objects.filter(patient=cast.pat)}
    assert set(years) == {2024, 2026}
    assert years[2024].period_end == dt.date(2024, 12, 31) and years[2024].covered_days == 60
    assert years[2026].index_date is None and not years[2026].in_denominator


def test_below_80_percent_puts_one_task_on_the_navigators_worklist(cast):
    nav = actor_for_user(cast.navigator)
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 1, 1)))
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 4, 1)))
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.adherent is False and m.follow_up_task_id is not None
    task = Task.objects.get(pk=m.follow_up_task_id)
    assert "capecitabine" in task.description and "below 80 %" in task.description
    assert task.owner_id == cast.navigator.pk
    assert CarePlan.objects.filter(patient=cast.pat).count() == 1
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 5, 1), 5))
    assert Task.objects.filter(patient=cast.pat, description__startswith="Adherence").count() == 1


def test_the_task_goes_into_the_open_plan_when_there_is_one(cast):
    from oncoliaison.careplans import services as careplans

    nav = actor_for_user(cast.navigator)
    plan = careplans.care_plan_generate(actor=nav, patient=cast.pat, title="Plan")
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 1, 1)))
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 4, 1)))
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert Task.objects.get(pk=m.follow_up_task_id).care_plan_id == plan.pk


def test_a_batch_is_computed_once_per_drug_so_adherent_patients_get_no_task(cast):
    nav = actor_for_user(cast.navigator)
    items = [(cast.pat, _fill(dt.date(2026, 1, 1) + dt.timedelta(days=30 * k))) for k in range(6)]
    bad = (cast.pat, services.DispenseData("x", "y", dispensed_on=TODAY, days_supply=30))
    results = services.dispenses_record_many(actor=nav, items=[*items, bad])
    assert [isinstance(r, Dispense) for r in results] == [True] * 6 + [False]
    assert isinstance(results[-1], ValidationFailed)
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.adherent is True and m.follow_up_task_id is None


def test_a_resent_fill_is_the_same_row_and_another_patients_source_id_conflicts(cast):
    nav = actor_for_user(cast.navigator)
    data = _fill(dt.date(2026, 2, 1), source_system="urn:pharmacy", source_id="rx-1")
    first = services.dispense_record(actor=nav, patient=cast.pat, data=data)
    assert services.dispense_record(actor=nav, patient=cast.pat, data=data).pk == first.pk
    assert Dispense.objects.count() == 1
    other = actor_for_user(cast.outsider)
    with pytest.raises(Conflict):
        services.dispense_record(actor=other, patient=cast.other_patient, data=data)


def test_invalid_fills_are_refused_with_field_errors(cast):
    nav = actor_for_user(cast.navigator)
    bad = services.DispenseData("abc", "", dispensed_on=TODAY + dt.timedelta(days=1), days_supply=0)
    with pytest.raises(ValidationFailed) as exc:
        services.dispense_record(actor=nav, patient=cast.pat, data=bad)
    assert set(exc.value.field_errors) == {"medication_code", "medication_display", "dispensed_on", "days_supply"}


def test_patients_caregivers_and_researchers_cannot_record(cast):
    for user in (cast.patient_user, cast.caregiver, cast.researcher):
        with pytest.raises(Forbidden):
            services.dispense_record(actor=actor_for_user(user), patient=cast.pat, data=_fill(dt.date(2026, 2, 1)))


def test_entered_in_error_leaves_the_figures_and_checks_the_version(cast):
    nav = actor_for_user(cast.navigator)
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 1, 1)))
    wrong = services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 1, 15)))
    with pytest.raises(PreconditionFailed):
        services.dispense_mark_error(actor=nav, dispense=wrong, expected_version=7)
    services.dispense_mark_error(actor=nav, dispense=wrong, expected_version=1)
    assert Dispense.objects.get(pk=wrong.pk).status == DispenseStatus.ENTERED_IN_ERROR
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.fill_dates == 1 and not m.in_denominator


def test_a_regimen_makes_off_days_not_uncovered(cast):
    nav = actor_for_user(cast.navigator)
    for k in range(8):  # 14 of 21 days, every cycle collected on day 1
        services.dispense_record(actor=nav, patient=cast.pat,
                                 data=_fill(dt.date(2026, 2, 1) + dt.timedelta(days=21 * k), 14))
    assert AdherenceMeasure.objects.get(patient=cast.pat, year=2026).adherent is False  # as daily use
    services.regimen_set(actor=nav, patient=cast.pat, data=services.RegimenData(
        *CAPECITABINE, starts_on=dt.date(2026, 2, 1), days_on=14, days_off=7))
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.cyclic and m.covered_days == m.denominator_days and m.adherent is True
    assert Dispense.objects.filter(patient=cast.pat, regimen__isnull=False).count() == 8
    with pytest.raises(PreconditionFailed):
        services.regimen_set(actor=nav, patient=cast.pat, expected_version=5, data=services.RegimenData(
            *CAPECITABINE, starts_on=dt.date(2026, 2, 1), days_on=14, days_off=7))


def test_the_daily_job_lowers_the_year_to_date_when_no_fill_arrives(cast, monkeypatch):
    from oncoliaison.core import clock

    nav = actor_for_user(cast.navigator)
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 5, 1), 30))
    services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 5, 31), 30))
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.adherent is True
    AdherenceMeasure.objects.filter(pk=m.pk).update(updated_at=timezone.make_aware(dt.datetime(2026, 8, 30, 12, 0)))
    later = dt.date(2026, 9, 1)
    monkeypatch.setattr(clock, "today", lambda: later)
    now = timezone.make_aware(dt.datetime(2026, 9, 1, 2, 0))
    assert services.measures_refresh_due(now) == 1
    m.refresh_from_db()
    assert m.period_end == later and m.adherent is False and m.follow_up_task_id is not None
    assert services.measures_refresh_due(now) == 0  # computed today already


def test_selectors_hide_other_organisations_patients(cast):
    nav = actor_for_user(cast.navigator)
    d = services.dispense_record(actor=nav, patient=cast.pat, data=_fill(dt.date(2026, 2, 1)))
    outsider = actor_for_user(cast.outsider)
    assert not selectors.dispense_queryset_for(outsider).exists()
    assert not selectors.measure_queryset_for(outsider).exists()
    with pytest.raises(NotFound):
        selectors.dispense_get_for(outsider, d.pk)
    with pytest.raises(NotFound):
        selectors.dispense_get_for(actor_for_user(cast.researcher), d.pk)
    assert selectors.dispense_get_for(nav, d.pk) == d
    assert list(selectors.dispenses_of(actor_for_user(cast.patient_user), cast.pat)) == [d]

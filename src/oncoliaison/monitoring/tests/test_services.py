"""Services: report_submit scores, alerts, audit and atomicity; alert responses; escalation; reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.models import InstrumentPermission, PermissionKind
from oncoliaison.monitoring import services
from oncoliaison.monitoring.models import (
    Alert,
    AlertAction,
    AlertStatus,
    ReportSchedule,
    SymptomAnswer,
    SymptomReport,
    SymptomScore,
)
from oncoliaison.monitoring.services import PermissionData, ScheduleData
from oncoliaison.patients.models import Consent, ConsentKind, ProxyScope

from .conftest import esas_answers

pytestmark = pytest.mark.django_db


def submit(cast, user, values, source="portal", patient=None, esas_instrument=None, **kw):
    from oncoliaison.instruments.models import Instrument

    instrument = esas_instrument or Instrument.objects.get(code="esas-r")
    return services.report_submit(actor=cast.actor(user), patient=patient or cast.pat, instrument=instrument,
                                  answers=kw.pop("answers", None) or esas_answers(values), source=source, **kw)


def test_patient_report_is_scored_stored_and_audited(cast, frozen):
    result = submit(cast, cast.patient_user, [2, 3, 1, 0, 2, 1, 1, 2, 3])
    report = result.report
    assert report.source == "portal" and report.reporter_kind == "patient"
    assert SymptomAnswer.objects.filter(report=report).count() == 9
    tsds = SymptomScore.objects.get(report=report, code="esas-tsds")
    assert tsds.value == 15 and tsds.max_value == 90
    assert result.alert is None and result.guidance.severity == ""
    events = AuditEvent.objects.filter(resource_type="QuestionnaireResponse", resource_id=str(report.pk))
    assert events.count() == 1 and events[0].patient_id == cast.pat.pk and events[0].action == "create"


def test_severe_symptom_creates_alert_for_navigator_with_one_hour_deadline(cast, frozen):
    result = submit(cast, cast.patient_user, [8, 3, 1, 0, 2, 1, 1, 2, 3])
    alert = result.alert
    assert alert is not None and alert.severity == "severe" and alert.status == "open"
    assert alert.deadline == frozen.now + dt.timedelta(hours=1)
    assert alert.assigned_to_id == cast.navigator.pk
    assert result.guidance.call_now
    assert AuditEvent.objects.filter(resource_type="Flag", resource_id=str(alert.pk)).exists()


def test_worsening_since_previous_report_is_moderate_next_business_day(cast, frozen):
    submit(cast, cast.patient_user, [2, 2, 1, 0, 2, 1, 1, 2, 3])
    frozen.advance(days=1)  # Tuesday 10:00 New York
    result = submit(cast, cast.patient_user, [4, 2, 1, 0, 2, 1, 1, 2, 3])
    assert result.alert is not None and result.alert.severity == "moderate"
    assert [r["rule"] for r in result.alert.reasons] == ["worsening"]
    # Wednesday 25 Nov 17:00 New York = 22:00 UTC
    assert result.alert.deadline == dt.datetime(2026, 11, 25, 22, 0, tzinfo=dt.UTC)


def test_red_flag_free_text(cast, frozen):
    result = submit(cast, cast.patient_user, None, answers={"anything-else": "I had a fever last night"})
    assert result.alert is not None and result.alert.severity == "severe"
    assert "fever" in result.alert.summary


def test_phone_entry_by_navigator_and_refusals(cast, frozen):
    result = submit(cast, cast.navigator, [1] * 9, source="phone")
    assert result.report.reporter_kind == "staff" and result.report.reported_by_id == cast.navigator.pk
    with pytest.raises(NotFound):  # partner navigator: same as a patient that does not exist
        submit(cast, cast.outsider, [1] * 9, source="phone")
    with pytest.raises(Forbidden):
        submit(cast, cast.researcher, [1] * 9, source="phone")
    with pytest.raises(Forbidden):
        submit(cast, cast.navigator, [1] * 9, source="portal")


def test_caregiver_needs_reporting_proxy_scope(cast, frozen):
    with pytest.raises(Forbidden):
        submit(cast, cast.caregiver, [1] * 9)
    Consent.objects.filter(patient=cast.pat, kind=ConsentKind.CAREGIVER_PROXY).update(proxy_scope=ProxyScope.REPORT)
    result = submit(cast, cast.caregiver, [1] * 9)
    assert result.report.reporter_kind == "proxy"


def test_patient_cannot_report_for_someone_else(cast, frozen):
    with pytest.raises(NotFound):
        submit(cast, cast.patient_user, [1] * 9, patient=cast.other_patient)


def test_invalid_answers_write_nothing(cast, frozen):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        submit(cast, cast.patient_user, [11, 2, 2, 2, 2, 2, 2, 2, 2])
    assert "esas-1" in exc.value.field_errors
    assert SymptomReport.objects.count() == 0 and AuditEvent.objects.count() == before


def test_submit_is_atomic(cast, frozen, monkeypatch):
    from oncoliaison.core import audit

    def boom(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(RuntimeError):
        submit(cast, cast.patient_user, [9] * 9)
    assert SymptomReport.objects.count() == 0 and Alert.objects.count() == 0 and SymptomScore.objects.count() == 0


def test_instrument_needing_permission_is_off_until_recorded(cast, frozen, proctcae):
    answers = {"PROCTCAE_9A_SCL": 3, "PROCTCAE_9B_SCL": 3}
    with pytest.raises(Forbidden):
        services.report_submit(actor=cast.actor(cast.patient_user), patient=cast.pat, instrument=proctcae,
                               answers=answers, source="portal")
    with pytest.raises(Forbidden):  # only a program administrator records it
        services.instrument_permission_record(actor=cast.actor(cast.navigator), instrument=proctcae,
                                              organization_id=cast.lead.pk,
                                              data=PermissionData("NCI", "ref", dt.date(2026, 1, 1)))
    with pytest.raises(ValidationFailed):
        services.instrument_permission_record(actor=cast.actor(cast.admin), instrument=proctcae,
                                              organization_id=cast.lead.pk, data=PermissionData("", "", None))
    services.instrument_permission_record(actor=cast.actor(cast.admin), instrument=proctcae,
                                          organization_id=cast.lead.pk,
                                          data=PermissionData("National Cancer Institute", "NCI letter 2026-014",
                                                              dt.date(2026, 1, 5)))
    result = services.report_submit(actor=cast.actor(cast.patient_user), patient=cast.pat, instrument=proctcae,
                                    answers=answers, source="portal")
    nausea = SymptomScore.objects.get(report=result.report, code="proctcae-9")
    assert nausea.kind == "composite" and nausea.value == 3
    assert result.alert is not None and result.alert.severity == "severe"
    # The permission is per program: the partner hospital still cannot use it.
    assert not services.instrument_on(proctcae, cast.partner.pk)
    perm = InstrumentPermission.objects.get(kind=PermissionKind.GRANT)
    services.instrument_permission_disable(actor=cast.actor(cast.admin), permission=perm, reason="Licence ended",
                                           confirmed=True)
    assert not services.instrument_on(proctcae, cast.lead.pk)


def test_fhir_resource_received_twice_is_stored_once(cast, frozen):
    from oncoliaison.core.actor import Actor
    from oncoliaison.core.scopes import ScopeSet

    actor = Actor(kind="system", client_id="app-1", client_organization_id=cast.lead.pk,
                  memberships=((cast.lead.pk, "system", cast.lead.kind),),
                  scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    from oncoliaison.instruments.models import Instrument

    esas = Instrument.objects.get(code="esas-r")
    first = services.report_submit(actor=actor, patient=cast.pat, instrument=esas, answers=esas_answers([9] * 9),
                                   source="fhir", source_system="urn:app", source_id="QuestionnaireResponse/1")
    again = services.report_submit(actor=actor, patient=cast.pat, instrument=esas, answers=esas_answers([9] * 9),
                                   source="fhir", source_system="urn:app", source_id="QuestionnaireResponse/1")
    assert not again.created and again.report.pk == first.report.pk
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1
    with pytest.raises(Conflict):
        _reuse_for_other(actor, cast, esas)


def _reuse_for_other(actor, cast, esas):
    from oncoliaison.patients.models import Patient

    other = Patient.objects.create(organization=cast.lead, given_name="Ann", family_name="Other",
                                   birth_date=dt.date(1970, 1, 1), gender="female", synthetic=True)
    services.report_submit(actor=actor, patient=other, instrument=esas, answers=esas_answers([1] * 9),
                           source="fhir", source_system="urn:app", source_id="QuestionnaireResponse/1")


def test_batch_reports_errors_per_item(cast, frozen, esas):
    from oncoliaison.monitoring.services import Submission

    actor = cast.actor(cast.navigator)
    outcomes = services.reports_submit_many(actor=actor, submissions=[
        Submission(cast.pat, esas, esas_answers([1] * 9), "phone", frozen.now - dt.timedelta(hours=2)),
        Submission(cast.other_patient, esas, esas_answers([1] * 9), "phone"),
        Submission(cast.pat, esas, esas_answers([4] * 9), "phone", frozen.now - dt.timedelta(hours=1)),
    ])
    assert isinstance(outcomes[1], NotFound)
    assert outcomes[0].alert is None
    # The second report of the batch compares with the first: +3 on every item
    assert outcomes[2].alert is not None and outcomes[2].alert.severity == "moderate"


# --- responding to alerts --------------------------------------------------------------------------------------


@pytest.fixture
def alert(cast, frozen):
    return submit(cast, cast.patient_user, [8, 3, 1, 0, 2, 1, 1, 2, 3]).alert


def test_acknowledge_action_resolve(cast, frozen, alert, clp):
    actor = cast.actor(cast.navigator)
    alert = services.alert_acknowledge(actor=actor, alert=alert)
    assert alert.status == "acknowledged" and alert.acknowledged_by_id == cast.navigator.pk
    with pytest.raises(ValidationFailed):
        services.alert_resolve(actor=actor, alert=alert)
    alert = services.alert_record_action(actor=actor, alert=alert, kind="called_patient", note="Pain 8, advised")
    alert = services.alert_record_action(actor=actor, alert=alert, kind="escalated_physician",
                                         note="Pain 8 despite breakthrough doses; please review analgesia")
    # The patient's treating physician on the care team, not the CLP.
    assert alert.status == "escalated" and alert.escalated_to_id == cast.oncologist.pk
    with pytest.raises(ValidationFailed):
        services.alert_record_action(actor=actor, alert=alert, kind="resolved", note="x")
    alert = services.alert_resolve(actor=actor, alert=alert)
    assert alert.status == "resolved"
    kinds = list(AlertAction.objects.filter(alert=alert).values_list("kind", flat=True))
    assert kinds == ["acknowledged", "called_patient", "escalated_physician", "resolved"]
    assert AuditEvent.objects.filter(resource_type="Flag", resource_id=str(alert.pk), action="update").count() == 4
    with pytest.raises(Conflict):
        services.alert_acknowledge(actor=actor, alert=alert)


def test_alert_responses_hide_other_organisations_and_need_a_care_role(cast, frozen, alert):
    with pytest.raises(NotFound):
        services.alert_acknowledge(actor=cast.actor(cast.outsider), alert=alert)
    with pytest.raises(Forbidden):
        services.alert_acknowledge(actor=cast.actor(cast.researcher), alert=alert)
    with pytest.raises(Forbidden):
        services.alert_acknowledge(actor=cast.actor(cast.patient_user), alert=alert)


def test_stale_version_is_refused(cast, frozen, alert):
    from oncoliaison.core.errors import PreconditionFailed

    services.alert_acknowledge(actor=cast.actor(cast.navigator), alert=alert)
    with pytest.raises(PreconditionFailed):
        services.alert_record_action(actor=cast.actor(cast.oncologist), alert=alert, kind="advised",
                                     note="Fluids and rest", expected_version=alert.version)


# --- jobs ------------------------------------------------------------------------------------------------------


def test_escalation_after_deadline_runs_once(cast, frozen, alert, clp):
    call_command("run_scheduled_jobs")
    assert Alert.objects.get(pk=alert.pk).status == "open"  # not yet due
    frozen.advance(minutes=61)
    mail.outbox.clear()
    call_command("run_scheduled_jobs")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ESCALATED and alert.escalated_to_id == clp.pk
    assert alert.escalated_at == frozen.now
    assert [m.to for m in mail.outbox] == [["clp@example.org"]]
    assert "Pat" not in mail.outbox[0].body
    # Safe to run twice: the task claims the row with a conditional update.
    from oncoliaison.monitoring.tasks import escalate_alert

    assert services.alert_escalate_overdue(alert.pk) is False
    escalate_alert.enqueue(alert.pk)
    assert AlertAction.objects.filter(alert=alert, kind="escalated_auto").count() == 1
    assert AuditEvent.objects.filter(resource_type="Flag", detail="escalated: deadline passed").count() == 1


def test_acknowledged_alert_is_not_escalated(cast, frozen, alert):
    services.alert_acknowledge(actor=cast.actor(cast.navigator), alert=alert)
    frozen.advance(hours=3)
    call_command("run_scheduled_jobs")
    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


def test_schedule_reminder_and_advance(cast, frozen, esas):
    cast.patient_user.email = "pat@example.org"
    cast.patient_user.save()
    schedule = services.schedule_create(actor=cast.actor(cast.navigator), patient=cast.pat,
                                        data=ScheduleData(esas.pk, "Active chemotherapy", 7, dt.date(2026, 11, 23)))
    # First due Monday 09:00 New York = 14:00 UTC, before the frozen 15:00 UTC: due now.
    mail.outbox.clear()
    call_command("run_scheduled_jobs")
    call_command("run_scheduled_jobs")
    schedule.refresh_from_db()
    assert schedule.reminder_count == 1 and [m.to for m in mail.outbox] == [["pat@example.org"]]
    submit(cast, cast.patient_user, [1] * 9)
    schedule.refresh_from_db()
    assert schedule.next_due_at == frozen.now + dt.timedelta(days=7)


def test_schedule_validation_and_access(cast, frozen, esas, proctcae):
    with pytest.raises(NotFound):
        services.schedule_create(actor=cast.actor(cast.outsider), patient=cast.pat,
                                 data=ScheduleData(esas.pk, "Chemo"))
    with pytest.raises(Forbidden):
        services.schedule_create(actor=cast.actor(cast.researcher), patient=cast.pat,
                                 data=ScheduleData(esas.pk, "Chemo"))
    with pytest.raises(ValidationFailed) as exc:
        services.schedule_create(actor=cast.actor(cast.navigator), patient=cast.pat,
                                 data=ScheduleData(proctcae.pk, "", 0))
    assert {"instrument", "care_plan_label", "frequency_days"} <= set(exc.value.field_errors)
    assert ReportSchedule.objects.count() == 0


def test_alert_rule_configuration(cast, frozen):
    with pytest.raises(Forbidden):
        services.alert_rule_update(actor=cast.actor(cast.navigator), organization_id=cast.lead.pk, kind="severe",
                                   enabled=True, severity="severe", params={"esas_at": 9})
    with pytest.raises(ValidationFailed):
        services.alert_rule_update(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, kind="severe",
                                   enabled=True, severity="severe", params={"esas_at": 12})
    services.alert_rule_update(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, kind="severe",
                               enabled=True, severity="severe", params={"esas_at": 9})
    assert submit(cast, cast.patient_user, [8, 0, 0, 0, 0, 0, 0, 0, 0]).alert is None
    services.alert_policy_update(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, severe_minutes=30,
                                 moderate_business_days=1, mild_business_days=3, business_day_end_hour=17,
                                 holidays=[])
    assert submit(cast, cast.patient_user, [9, 0, 0, 0, 0, 0, 0, 0, 0]).alert.deadline == \
        frozen.now + dt.timedelta(minutes=30)

"""Monitoring is never switched off silently: disabling an instrument or an alert rule shows who is affected,
needs a reason and a confirmation, is audited, and the schedules left unanswerable are on the CLP's worklist;
the severe-symptom and red-flag rules are never switched off (they are changed, which replaces them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from oncoliaison.core.errors import ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.models import InstrumentPermission, PermissionKind
from oncoliaison.instruments.selectors import grant_record
from oncoliaison.monitoring import services, tasks
from oncoliaison.monitoring.models import AlertRule, ReportSchedule
from oncoliaison.monitoring.services import PermissionData, ScheduleData

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(cast, frozen, proctcae):  # type: ignore[no-untyped-def]
    """PRO-CTCAE on for the lead program and Pat asked to report on it weekly."""
    services.instrument_permission_record(actor=cast.actor(cast.admin), instrument=proctcae,
                                          organization_id=cast.lead.pk,
                                          data=PermissionData("National Cancer Institute", "NCI-2026-014",
                                                              dt.date(2026, 1, 5)))
    schedule = services.schedule_create(actor=cast.actor(cast.navigator), patient=cast.pat,
                                        data=ScheduleData(proctcae.pk, "Active chemotherapy (FOLFOX)", 7,
                                                          proctcae_terms=[9, 16]))
    return InstrumentPermission.objects.get(kind=PermissionKind.GRANT), schedule


def test_disabling_an_instrument_needs_a_reason_and_a_confirmation(cast, scheduled, proctcae):
    permission, _ = scheduled
    admin = cast.actor(cast.admin)
    with pytest.raises(ValidationFailed) as exc:
        services.instrument_permission_disable(actor=admin, permission=permission)
    assert set(exc.value.field_errors) == {"reason", "confirm"}
    assert "1 active reporting schedule" in exc.value.field_errors["confirm"][0]
    with pytest.raises(ValidationFailed):
        services.instrument_permission_disable(actor=admin, permission=permission, reason="Licence ended")
    assert services.instrument_on(proctcae, cast.lead.pk)
    services.instrument_permission_disable(actor=admin, permission=permission, reason="NCI licence ended",
                                           confirmed=True)
    # The permission stays on record as it was granted; the withdrawal is a new entry of the history.
    assert not grant_record(permission).standing
    withdrawal = InstrumentPermission.objects.get(withdraws=permission)
    assert withdrawal.reason == "NCI licence ended" and withdrawal.recorded_by_id == cast.admin.pk
    assert InstrumentPermission.objects.get(pk=permission.pk).reference == "NCI-2026-014"
    assert AuditEvent.objects.filter(category="instrument", action="admin",
                                     detail__contains="1 active schedules affected").exists()


def test_disable_page_counts_the_schedules_affected_and_one_click_changes_nothing(client, cast, scheduled):
    permission, _ = scheduled
    client.force_login(cast.admin)
    url = reverse("monitoring:permission_disable", args=[permission.pk])
    assert 'href="' + url in client.get(reverse("monitoring:instruments")).content.decode()
    page = client.get(url).content.decode()
    # The administrator is told how many, not who (minimum necessary); the CLP's worklist names them.
    assert "1 active reporting schedule" in page
    assert cast.pat.display_name not in page and "Active chemotherapy (FOLFOX)" not in page
    assert client.post(url, {}).status_code == 422  # the old one-click form
    assert grant_record(permission).standing
    r = client.post(url, {"reason": "Licence ended", "confirm": "on"})
    assert r.status_code == 302 and not grant_record(permission).standing


def test_schedules_left_unanswerable_are_on_the_clps_worklist_and_get_no_reminder(client, cast, scheduled, clp,
                                                                                   frozen):
    permission, schedule = scheduled
    services.instrument_permission_disable(actor=cast.actor(cast.admin), permission=permission,
                                           reason="Licence ended", confirmed=True)
    client.force_login(clp)
    html = client.get(reverse("worklists:worklist")).content.decode()
    section = html[html.index('id="h-monitoring-off"'):]
    assert cast.pat.display_name in section[:section.index("</section>")]
    cast.patient_user.email = "pat@example.org"
    cast.patient_user.save()
    frozen.advance(days=2)
    mail.outbox.clear()
    assert tasks.send_schedule_reminder.call(schedule.pk) is False
    assert mail.outbox == [] and ReportSchedule.objects.get(pk=schedule.pk).reminder_count == 0


@pytest.mark.parametrize("kind", ["severe", "red_flag"])
def test_severe_and_red_flag_rules_cannot_be_switched_off(cast, frozen, kind):
    params = {"esas_at": 7, "grade_at": 3} if kind == "severe" else {"phrases": ["fever"]}
    with pytest.raises(ValidationFailed) as exc:
        services.alert_rule_update(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, kind=kind,
                                   enabled=False, severity="severe", params=params, reason="Too many alerts",
                                   confirmed=True)
    assert "enabled" in exc.value.field_errors
    assert not AlertRule.objects.exists()
    # Changing the rule replaces it, without a gap.
    services.alert_rule_update(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, kind=kind,
                               enabled=True, severity="severe", params=params)
    assert AlertRule.objects.get(kind=kind).enabled


def test_switching_off_another_rule_shows_who_is_affected_needs_a_reason_and_is_recorded(client, cast, scheduled,
                                                                                         clp):
    client.force_login(cast.admin)
    url = reverse("monitoring:alert_rules")
    assert "1 patient of your program has an active reporting schedule" in client.get(url).content.decode()
    r = client.post(url, {"rule": "worsening", "worsening-severity": "moderate", "worsening-points": 2,
                          "worsening-grades": 1, "worsening-grade_at": 2})
    assert r.status_code == 422 and "Say why" in r.content.decode()
    assert not AlertRule.objects.filter(kind="worsening").exists()
    r = client.post(url, {"rule": "worsening", "worsening-severity": "moderate", "worsening-points": 2,
                          "worsening-grades": 1, "worsening-grade_at": 2,
                          "worsening-reason": "Replaced by weekly nurse review", "worsening-confirm": "on"})
    assert r.status_code == 302
    rule = AlertRule.objects.get(kind="worsening")
    assert not rule.enabled and rule.disabled_reason == "Replaced by weekly nurse review"
    assert AuditEvent.objects.filter(category="alert-rule", detail__contains="switched off, 1 patients").exists()
    client.force_login(clp)
    html = client.get(reverse("worklists:worklist")).content.decode()
    assert "Replaced by weekly nurse review" in html

"""Background work of symptom monitoring (Django's tasks API through the django-tasks backport).

Every task takes ids, reloads state and is safe to run twice: escalation and reminders are claimed with a
conditional UPDATE in services.  ``run_due_jobs`` is the scheduled job that ``oncoliaison run-scheduled-jobs`` (cron) runs;
on a real queue the same tasks run in workers.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from oncoliaison.core import clock
from oncoliaison.core.notices import Notice, absolute_url
from oncoliaison.core.schedule import scheduled_job
from oncoliaison.patients.selectors import contact_points_for

from . import notifications, services
from .models import Alert

logger = logging.getLogger(__name__)


def _send(notice: Notice, to: list[str]) -> None:
    send_mail(notice.subject, notice.body, None, to, fail_silently=True)


def _alert_url(alert_id: int) -> str:
    """The alert's page (reasons, the patient's words, what was done): notices carry only this link, never
    patient content — who the patient is and why the alert fired are read after signing in."""
    return absolute_url(reverse("monitoring:alert_detail", args=[alert_id]))


@task()
def escalate_alert(alert_id: int) -> bool:
    """Escalate one alert whose deadline passed unacknowledged; notify the CLP / physician it went to."""
    done = services.alert_escalate_overdue(alert_id)
    if done:
        alert = Alert.objects.select_related("escalated_to").get(pk=alert_id)
        to = alert.escalated_to.email if alert.escalated_to and alert.escalated_to.email else ""
        if to:
            # No patient names, identifiers or symptoms in e-mail: a link to the alert only.
            _send(notifications.alert_overdue_escalated(_alert_url(alert_id)), [to])
        logger.info("symptom alert %s escalated", alert_id)
    return done


@task()
def send_schedule_reminder(schedule_id: int) -> bool:
    """Remind a patient that a symptom report is due (once per due time)."""
    schedule = services.schedule_claim_reminder(schedule_id)
    if schedule is None:
        return False
    user = schedule.patient.user
    email = (user.email if user is not None else "") or ""
    if email:
        urgent = contact_points_for(schedule.patient).urgent_phone
        _send(notifications.check_in_due(absolute_url("/"), urgent), [email])
    return True


@task()
def notify_alerts(alert_ids: list[int]) -> int:
    """Tell the assigned navigators that severe alerts arrived (one message each, a link per alert, no patient
    details); returns how many navigators were told.  Alerts already acknowledged are skipped."""
    by_recipient: dict[str, list[int]] = {}
    for alert_id, email in (
        Alert.objects.filter(pk__in=alert_ids, status="open", assigned_to__isnull=False, assigned_to__is_active=True)
        .exclude(assigned_to__email="").order_by("deadline", "pk").values_list("pk", "assigned_to__email")
    ):
        by_recipient.setdefault(email, []).append(alert_id)
    for email, ids in sorted(by_recipient.items()):
        _send(notifications.severe_alerts([_alert_url(i) for i in ids]), [email])
    return len(by_recipient)


@task()
def notify_escalation(alert_id: int) -> bool:
    """Tell the physician (or CLP) an alert was escalated to that it waits for them, with a link to the alert,
    where the escalation note is shown; no patient details in the message."""
    alert = Alert.objects.select_related("escalated_to").filter(pk=alert_id, status="escalated").first()
    to = alert.escalated_to.email if alert and alert.escalated_to and alert.escalated_to.is_active else ""
    if not to:
        return False
    _send(notifications.alert_escalated_to_you(_alert_url(alert_id)), [to])
    return True


def run_due_jobs(now: dt.datetime | None = None) -> dict[str, int]:
    """Enqueue every job that is due now; returns how many of each were enqueued."""
    now = now or clock.now()
    escalations = services.alerts_due_for_escalation(now)
    for alert_id in escalations:
        escalate_alert.enqueue(alert_id)
    reminders = services.schedules_due_for_reminder(now)
    for schedule_id in reminders:
        send_schedule_reminder.enqueue(schedule_id)
    return {"escalations": len(escalations), "reminders": len(reminders)}


@scheduled_job("symptom monitoring")
def scheduled_monitoring(now: dt.datetime) -> str:
    counts = run_due_jobs(now)
    return f"escalations: {counts['escalations']}, reminders: {counts['reminders']}"

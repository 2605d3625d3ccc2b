"""Background work of symptom monitoring (Django's tasks API through the django-tasks backport).

Every task takes ids, reloads state and is safe to run twice: escalation and reminders are claimed with a
conditional UPDATE in services.  ``run_due_jobs`` is what ``oncoliaison run-scheduled-jobs`` (cron) calls;
on a real queue the same tasks run in workers.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from oncoliaison.core import clock

from . import services
from .models import Alert

logger = logging.getLogger(__name__)


def _url(path: str) -> str:
    return (settings.PUBLIC_BASE_URL.rstrip("/") + path) if settings.PUBLIC_BASE_URL else path


@task()
def escalate_alert(alert_id: int) -> bool:
    """Escalate one alert whose deadline passed unacknowledged; notify the CLP / physician it went to."""
    done = services.alert_escalate_overdue(alert_id)
    if done:
        alert = Alert.objects.select_related("escalated_to").get(pk=alert_id)
        to = alert.escalated_to.email if alert.escalated_to and alert.escalated_to.email else ""
        if to:
            # No patient names or identifiers in e-mail: a link to the worklist only.
            send_mail(
                "OncoLiaison: a symptom alert passed its response deadline",
                "A symptom alert on your patients' worklist was not acknowledged in time and has been escalated "
                f"to you.  Open the worklist: {_url(reverse('monitoring:worklist'))}",
                None, [to], fail_silently=True,
            )
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
        send_mail(
            "Your symptom check-in is due",
            "Your care team asks you to report how you are feeling.  Please sign in to the OncoLiaison portal "
            f"to answer a few questions: {_url('/')}\n\nIf you feel very unwell, call your care team now or 911 "
            "in an emergency.",
            None, [email], fail_silently=True,
        )
    return True


@task()
def notify_alerts(alert_ids: list[int]) -> int:
    """Tell the assigned navigators that severe alerts arrived (one message each, no patient details);
    returns how many navigators were told.  Alerts already acknowledged are skipped."""
    recipients = set(
        Alert.objects.filter(pk__in=alert_ids, status="open", assigned_to__isnull=False)
        .exclude(assigned_to__email="").values_list("assigned_to__email", flat=True)
    )
    for email in sorted(recipients):
        send_mail(
            "OncoLiaison: severe symptom alert on your worklist",
            f"A severe symptom alert needs a response within the hour.  Open the worklist: "
            f"{_url(reverse('monitoring:worklist'))}",
            None, [email], fail_silently=True,
        )
    return len(recipients)


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

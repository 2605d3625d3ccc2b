"""Background work of symptom monitoring (Django's tasks API through the django-tasks backport).

Every task takes ids, reloads state and is safe to run twice: escalation and reminders are claimed with a
conditional UPDATE in services.  ``run_due_jobs`` is the scheduled job that ``oncoliaison run-scheduled-jobs`` (cron) runs;
on a real queue the same tasks run in workers.
"""

from __future__ import annotations

import datetime as dt
import logging

from django_tasks import task

from oncoliaison.core import clock
from oncoliaison.core.notices import absolute_url
from oncoliaison.core.schedule import scheduled_job
from oncoliaison.patients.selectors import contact_points_for

from . import notifications, notify, services
from .models import Alert

logger = logging.getLogger(__name__)


@task()
def escalate_alert(alert_id: int) -> bool:
    """Escalate one alert whose deadline passed unacknowledged; notify the CLP / physician it went to."""
    done = services.alert_escalate_overdue(alert_id)
    if done:
        alert = Alert.objects.select_related("escalated_to").get(pk=alert_id)
        to = alert.escalated_to.email if alert.escalated_to and alert.escalated_to.email else ""
        if to:
            # No patient names, identifiers or symptoms in e-mail: a link to the alert only.
            notify.send(notifications.alert_overdue_escalated(notify.alert_url(alert_id)), [to])
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
        notify.send(notifications.check_in_due(absolute_url("/"), urgent), [email])
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

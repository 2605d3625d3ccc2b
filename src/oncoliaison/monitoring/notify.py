"""E-mail notices of symptom monitoring, as tasks (django-tasks): the texts are in ``notifications``; these
look up who is told and send.  Services enqueue them after commit; nothing here writes monitoring data."""

from __future__ import annotations

from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from oncoliaison.core.notices import Notice, absolute_url

from . import notifications
from .models import Alert


def send(notice: Notice, to: list[str]) -> None:
    send_mail(notice.subject, notice.body, None, to, fail_silently=True)


def alert_url(alert_id: int) -> str:
    """The alert's page (reasons, the patient's words, what was done): notices carry only this link, never
    patient content — who the patient is and why the alert fired are read after signing in."""
    return absolute_url(reverse("monitoring:alert_detail", args=[alert_id]))


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
        send(notifications.severe_alerts([alert_url(i) for i in ids]), [email])
    return len(by_recipient)


@task()
def notify_escalation(alert_id: int) -> bool:
    """Tell the physician (or CLP) an alert was escalated to that it waits for them, with a link to the alert,
    where the escalation note is shown; no patient details in the message."""
    alert = Alert.objects.select_related("escalated_to").filter(pk=alert_id, status="escalated").first()
    to = alert.escalated_to.email if alert and alert.escalated_to and alert.escalated_to.is_active else ""
    if not to:
        return False
    send(notifications.alert_escalated_to_you(alert_url(alert_id)), [to])
    return True

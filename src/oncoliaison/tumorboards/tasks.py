"""Background work of tumor boards: e-mail notices (no patient data) and the daily concordance check."""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from oncoliaison.accounts.models import User
from oncoliaison.core.notices import absolute_url
from oncoliaison.core.schedule import scheduled_job

from . import notifications


@task()
def send_notices(user_ids: list[int], kind: str, meeting_id: int) -> int:
    """E-mail each person that a notice waits, with a link to the meeting; returns how many were told."""
    link = absolute_url(reverse("tumorboards:meeting", args=[meeting_id]))
    notice = notifications.board_notice(kind, link)
    emails = sorted(set(User.objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
                        .values_list("email", flat=True)))
    for email in emails:
        send_mail(notice.subject, notice.body, None, [email], fail_silently=True)
    return len(emails)


@scheduled_job("tumor board concordance")
def scheduled_concordance(now: dt.datetime) -> str:
    """Once a day per case: whether each open recommendation was followed, from the treatments recorded."""
    from . import services

    return f"cases checked: {services.concordance_refresh_due(now)}"

"""Background work of referrals (Django's tasks API through the django-tasks backport).

Tasks take ids, reload state and are safe to run twice (a referral that is no longer open is skipped).
Messages carry no patient names or identifiers: a link to the triage queue only.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from oncoliaison.core.notices import absolute_url
from oncoliaison.organisations.models import Membership, Role

from . import notifications
from .models import OPEN_STATUSES, Referral, Urgency

logger = logging.getLogger(__name__)

# Referrals whose arrival the program's navigators are told of at once.
NOTIFY_URGENCIES = (Urgency.URGENT, Urgency.EMERGENT)


@task()
def notify_navigators_of_referral(referral_id: int) -> int:
    """E-mail the receiving program's navigators that an urgent or emergent referral is waiting; returns
    how many were told."""
    referral = (
        Referral.objects.filter(pk=referral_id, status__in=OPEN_STATUSES, urgency__in=NOTIFY_URGENCIES)
        .select_related("receiving_organization")
        .first()
    )
    if referral is None:
        return 0
    recipients = sorted(set(
        Membership.objects.filter(organization_id=referral.receiving_organization_id, role=Role.NAVIGATOR,
                                  active=True, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    ))
    if not recipients:
        return 0
    urgency = referral.get_urgency_display().lower()
    notice = notifications.urgent_referral_waiting(urgency, referral.receiving_organization.name,
                                                   absolute_url(reverse("referrals:queue")))
    send_mail(notice.subject, notice.body, None, recipients, fail_silently=True)
    logger.info("navigators told of referral %s", referral_id)
    return len(recipients)

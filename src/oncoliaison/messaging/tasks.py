"""Background work of secure messages: e-mail notices.  The notice never carries the message's content,
subject, sender or patient — only that a secure message is waiting, with a link to sign in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from oncoliaison.core import clock
from oncoliaison.core.notices import absolute_url

from . import notifications
from .models import Message, ThreadParticipant


@task()
def send_message_notices(message_id: int, link_base: str = "") -> int:
    """E-mail every participant who should hear about message ``message_id``.  Safe to run twice: the
    message is claimed with a conditional update, so notices go out once.  Returns notices sent."""
    from oncoliaison.accounts.services import actor_for_user

    from .selectors import thread_queryset_for

    claimed = Message.objects.filter(pk=message_id, notified_at__isnull=True).update(notified_at=clock.now())
    if not claimed:
        return 0
    message = Message.objects.select_related("thread").get(pk=message_id)
    recipients = (
        ThreadParticipant.objects.filter(thread=message.thread, notify=True, user__is_active=True)
        .exclude(user_id=message.author_id or 0)
        .exclude(user__email="")
        .values_list("user_id", flat=True)
    )
    link = absolute_url(reverse("messaging:thread", args=[message.thread_id]), link_base)
    sent = 0
    with mail.get_connection() as connection:
        for user in get_user_model().objects.filter(pk__in=list(recipients)):
            # Only people who may still open the thread (a revoked proxy hears nothing).
            if not thread_queryset_for(actor_for_user(user)).filter(pk=message.thread_id).exists():
                continue
            with translation.override(_language_of(user)):
                notice = notifications.message_waiting(link)
            mail.EmailMessage(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [user.email],
                              connection=connection).send()
            sent += 1
    return sent


def _language_of(user: object) -> str:
    record = getattr(user, "patient_record", None)
    language = getattr(record, "preferred_language", "") or settings.LANGUAGE_CODE
    return language.split("-")[0]

"""Every write to secure messages: starting a thread, posting, marking read.

One transaction each with its audit row (category "messages").  E-mail notices are sent after commit by
``tasks.send_message_notices`` and say only that a new secure message exists — never its content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for
from oncoliaison.programs.selectors import current_navigators

from .models import Attachment, Message, ParticipantRole, Thread, ThreadKind, ThreadParticipant
from .selectors import CATEGORY, messaging_patient_ids_for_caregiver, require_messages, thread_queryset_for

SUBJECT_MAX = 200
BODY_MAX = 10_000
ATTACHMENTS_MAX = 10
ATTACHMENT_SIZE_MAX = 50 * 1024 * 1024  # 50 MB
ATTACHMENT_TYPES = frozenset({
    "application/pdf", "image/jpeg", "image/png", "image/heic", "image/gif", "text/plain",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
})


@dataclass(frozen=True)
class AttachmentData:
    name: str
    content_type: str
    size: int


def _validate_text(subject: str | None, body: str, attachments: Sequence[AttachmentData]) -> None:
    errors: dict[str, list[str]] = {}
    if subject is not None:
        if not subject.strip():
            errors["subject"] = ["Enter a subject."]
        elif len(subject.strip()) > SUBJECT_MAX:
            errors["subject"] = [f"Keep the subject under {SUBJECT_MAX} characters."]
    if not body.strip():
        errors["body"] = ["Write your message."]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"A message can be at most {BODY_MAX:,} characters; split it into two."]
    if len(attachments) > ATTACHMENTS_MAX:
        errors["attachments"] = [f"Attach at most {ATTACHMENTS_MAX} files to one message."]
    for a in attachments:
        if not a.name.strip() or len(a.name) > 255:
            errors.setdefault("attachments", []).append("Every attachment needs a file name (up to 255 characters).")
        if a.content_type not in ATTACHMENT_TYPES:
            errors.setdefault("attachments", []).append(
                "Attach PDF, Word, plain-text or image files (JPEG, PNG, HEIC, GIF) only."
            )
        if a.size < 0 or a.size > ATTACHMENT_SIZE_MAX:
            errors.setdefault("attachments", []).append("An attachment can be at most 50 MB.")
    if errors:
        raise ValidationFailed("The message could not be sent.", field_errors=errors)


def _actor_role(actor: Actor) -> str:
    return {"patient": ParticipantRole.PATIENT, "caregiver": ParticipantRole.PROXY}.get(
        actor.kind, ParticipantRole.STAFF
    )


def navigators_for(patient: Patient, *, today: dt.date | None = None) -> list[int]:
    """Where a new patient thread goes: the patient's navigator now (``programs.selectors.current_navigators``:
    the open episode's navigator, else a navigator on the active care team today), else the navigators of the
    patient's organisation.  Returns user ids (possibly empty)."""
    current = current_navigators([patient.pk], today=today).get(patient.pk)
    if current is not None:
        return [current]
    return list(
        Membership.objects.filter(
            organization_id=patient.organization_id, role=Role.NAVIGATOR, active=True, user__is_active=True
        )
        .order_by("id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def _record_attachments(message: Message, attachments: Iterable[AttachmentData]) -> None:
    Attachment.objects.bulk_create([
        Attachment(message=message, name=a.name.strip()[:255], content_type=a.content_type, size=a.size)
        for a in attachments
    ])


def _schedule_notices(message: Message, link_base: str) -> None:
    from .tasks import send_message_notices

    message_id = message.pk
    transaction.on_commit(lambda: send_message_notices.enqueue(message_id, link_base))


def _add_participant(thread: Thread, user_id: int, role: str, now: dt.datetime, *, notify: bool = True) -> None:
    participant, created = ThreadParticipant.objects.get_or_create(
        thread=thread, user_id=user_id, defaults={"role": role, "notify": notify, "joined_at": now}
    )
    if not created and notify and not participant.notify:
        participant.notify = True
        participant.save(update_fields=["notify"])


def _staff_may_see(user_id: int, patient: Patient | None) -> bool:
    from oncoliaison.accounts.services import actor_for_user

    user = get_user_model().objects.filter(pk=user_id, is_active=True, kind="staff").first()
    if user is None:
        return False
    other = actor_for_user(user)
    if not other.clinical_organization_ids:
        return False
    return patient is None or patient_queryset_for(other).filter(pk=patient.pk).exists()


def thread_start(
    *,
    actor: Actor,
    kind: str,
    subject: str,
    body: str,
    patient: Patient | None = None,
    participant_ids: Sequence[int] = (),
    attachments: Sequence[AttachmentData] = (),
    link_base: str = "",
    channel: str = "web",
) -> Thread:
    """Open a thread with its first message.

    ``patient`` must come from an access guard.  A patient thread started by the patient or a proxy is
    routed to the navigator; one started by staff includes the patient.  A staff thread needs at least one
    other staff participant who may see the patient.
    """
    require_messages(actor)
    _validate_text(subject, body, attachments)
    if kind not in ThreadKind.values:
        raise ValidationFailed("Unknown kind of thread.", field_errors={"kind": ["Choose a kind of thread."]})
    now = clock.now()
    if kind == ThreadKind.PATIENT:
        if patient is None:
            raise ValidationFailed("Choose the patient.", field_errors={"patient": ["Required."]})
        if actor.kind == "patient" and patient.pk != actor.own_patient_id:
            raise Forbidden("You can message only your own care team.")
        if actor.kind == "caregiver" and not messaging_patient_ids_for_caregiver(actor).filter(pk=patient.pk).exists():
            raise Forbidden("Your access does not include messaging the care team.")
        if actor.kind == "staff" and not patient_queryset_for(actor).filter(pk=patient.pk).exists():
            raise Forbidden("You may message only patients whose care you take part in.")
        organization_id = patient.organization_id
    else:
        if actor.kind != "staff":
            raise Forbidden("Staff threads are for the care team.")
        if patient is not None and not patient_queryset_for(actor).filter(pk=patient.pk).exists():
            raise Forbidden("You may discuss only patients whose care you take part in.")
        others = [pid for pid in dict.fromkeys(participant_ids) if pid != actor.user_id]
        if not others:
            raise ValidationFailed("Add at least one colleague.", field_errors={"participants": ["Required."]})
        refused = [pid for pid in others if not _staff_may_see(pid, patient)]
        if refused:
            raise ValidationFailed(
                "Some colleagues cannot take part: they are not staff in a care role who may see this patient.",
                field_errors={"participants": ["Choose colleagues who take part in this patient's care."]},
            )
        if patient is not None and patient.organization_id in actor.clinical_organization_ids:
            organization_id = patient.organization_id
        else:
            organization_id = min(actor.clinical_organization_ids)

    with transaction.atomic():
        thread = Thread.objects.create(
            kind=kind, organization_id=organization_id, patient=patient, subject=subject.strip(),
            created_by_id=actor.user_id, created_at=now, last_message_at=now,
        )
        _add_participant(thread, actor.user_id, _actor_role(actor), now)  # type: ignore[arg-type]  # a person starts a thread, so user_id is set
        if kind == ThreadKind.PATIENT:
            assert patient is not None
            if patient.user_id and patient.user_id != actor.user_id:
                _add_participant(thread, patient.user_id, ParticipantRole.PATIENT, now)
            if actor.kind in {"patient", "caregiver"}:
                navigators = navigators_for(patient)
                for user_id in navigators:
                    _add_participant(thread, user_id, ParticipantRole.NAVIGATOR, now)
                if not navigators:
                    thread.routed = False
                    thread.save(update_fields=["routed"])
        else:
            for user_id in others:
                _add_participant(thread, user_id, ParticipantRole.STAFF, now)
        message = Message.objects.create(
            thread=thread, author_id=actor.user_id, author_role=_actor_role(actor), body=body.strip(), created_at=now
        )
        _record_attachments(message, attachments)
        ThreadParticipant.objects.filter(thread=thread, user_id=actor.user_id or 0).update(
            last_read_message=message, last_read_at=now
        )
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="Thread", resource_id=thread.pk,
                  patient_id=thread.patient_id, channel=channel,
                  detail="routed to navigator" if kind == ThreadKind.PATIENT and thread.routed
                  and actor.kind in {"patient", "caregiver"} else "")
        _schedule_notices(message, link_base)
    return thread


def message_post(
    *,
    actor: Actor,
    thread: Thread,
    body: str,
    attachments: Sequence[AttachmentData] = (),
    link_base: str = "",
    channel: str = "web",
) -> Message:
    """Reply in a thread the actor may see (``thread`` from a selector; visibility is re-checked)."""
    require_messages(actor)
    _validate_text(None, body, attachments)
    if not thread_queryset_for(actor).filter(pk=thread.pk).exists():
        from oncoliaison.core.errors import NotFound

        raise NotFound()
    now = clock.now()
    with transaction.atomic():
        locked = Thread.objects.select_for_update().get(pk=thread.pk)
        message = Message.objects.create(
            thread=locked, author_id=actor.user_id, author_role=_actor_role(actor), body=body.strip(), created_at=now
        )
        _record_attachments(message, attachments)
        _add_participant(locked, actor.user_id, _actor_role(actor), now)  # type: ignore[arg-type]  # a person writes, so user_id is set
        ThreadParticipant.objects.filter(thread=locked, user_id=actor.user_id or 0).update(
            last_read_message=message, last_read_at=now
        )
        locked.last_message_at = now
        locked.save(update_fields=["last_message_at"])
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="Message", resource_id=message.pk,
                  patient_id=locked.patient_id, channel=channel, detail=f"in thread {locked.pk}")
        _schedule_notices(message, link_base)
    return message


def thread_mark_read(*, actor: Actor, thread: Thread, channel: str = "web") -> ThreadParticipant | None:
    """Record that the actor has read the thread up to its latest message (their read receipt).

    A reader who was not yet a participant joins quietly (no e-mail notices until they reply).
    Returns None when there was nothing new to mark.
    """
    require_messages(actor)
    if not thread_queryset_for(actor).filter(pk=thread.pk).exists():
        from oncoliaison.core.errors import NotFound

        raise NotFound()
    latest = Message.objects.filter(thread=thread).order_by("-id").values_list("pk", flat=True).first()
    if latest is None:
        return None
    now = clock.now()
    with transaction.atomic():
        participant, _ = ThreadParticipant.objects.select_for_update().get_or_create(
            thread=thread, user_id=actor.user_id,
            defaults={"role": _actor_role(actor), "notify": False, "joined_at": now},
        )
        if participant.last_read_message_id is not None and participant.last_read_message_id >= latest:
            return None
        participant.last_read_message_id = latest
        participant.last_read_at = now
        # The patient sees who read their message, and that it was read by breaking the glass.
        participant.read_in_emergency = participant.read_in_emergency or (
            actor.emergency_access_id_for(thread.patient_id) is not None)
        participant.save(update_fields=["last_read_message", "last_read_at", "read_in_emergency"])
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="Thread", resource_id=thread.pk,
                  patient_id=thread.patient_id, channel=channel, detail="read receipt")
    return participant


def threads_hand_off(*, actor: Actor, patient_id: int, from_user_id: int, to_user_id: int,
                     channel: str = "web") -> int:
    """A patient's navigator changed: the patient's threads routed to the previous navigator are routed to
    the new one (who joins them and gets their notices); the previous one stops getting notices but keeps
    the history.  Runs inside the hand-off's transaction (``worklists.services.patients_hand_off``).
    Returns how many threads were re-routed."""
    now = clock.now()
    threads = list(Thread.objects.filter(
        patient_id=patient_id, kind=ThreadKind.PATIENT,
        participants__user_id=from_user_id, participants__role=ParticipantRole.NAVIGATOR,
    ).distinct())
    for thread in threads:
        _add_participant(thread, to_user_id, ParticipantRole.NAVIGATOR, now)
        ThreadParticipant.objects.filter(thread=thread, user_id=from_user_id).update(notify=False)
        if not thread.routed:
            thread.routed = True
            thread.save(update_fields=["routed"])
    if threads:
        audit.record(actor, [audit.Entry(AuditAction.UPDATE, CATEGORY, "Thread", t.pk, patient_id,
                                         detail=f"routed to navigator {to_user_id} (was {from_user_id})")
                             for t in threads], channel=channel)
    return len(threads)

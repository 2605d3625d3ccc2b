"""Reads of secure messages, always given the actor.  A thread the actor may not see is "not found".

Who sees what:
- a patient sees their own patient/care-team threads;
- a caregiver sees the care-team threads of patients whose active proxy consent lets them message;
- staff with a care role see the care-team threads of every patient they may see, and staff-to-staff
  threads they take part in or that belong to their organisation, when they may also see the patient;
- everyone else (researchers, view-only or report-only proxies, API clients) is refused with 403.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import ConsentKind, Patient
from oncoliaison.patients.selectors import active_consents, visible_patient_ids_q
from oncoliaison.portal.rules import ProxyAction, proxy_scopes_allowing

from .models import Message, Thread, ThreadKind, ThreadParticipant

CATEGORY = "messages"


def messaging_patient_ids_for_caregiver(actor: Actor) -> QuerySet[Patient]:
    """Patients for whom this caregiver may message the care team."""
    consents = active_consents().filter(
        kind=ConsentKind.CAREGIVER_PROXY,
        grantee_user_id=actor.user_id,
        proxy_scope__in=proxy_scopes_allowing(ProxyAction.MESSAGE),
    )
    return Patient.objects.filter(pk__in=consents.values("patient_id"))


def may_use_messages(actor: Actor) -> bool:
    if actor.kind == "patient":
        return actor.own_patient_id is not None
    if actor.kind == "caregiver":
        return messaging_patient_ids_for_caregiver(actor).exists()
    if actor.kind == "staff":
        return bool(actor.patient_care_organization_ids) or bool(actor.emergency_access)
    return False


def require_messages(actor: Actor) -> None:
    """403 for actors whose role (or proxy scope) does not include secure messages."""
    if not may_use_messages(actor):
        if actor.kind == "caregiver":
            raise Forbidden("Your access does not include messaging the care team.")
        raise Forbidden("Your role does not include secure messages with patients.")


def thread_queryset_for(actor: Actor) -> QuerySet[Thread]:
    """Every thread ``actor`` may see (no role check, no audit: callers do both)."""
    if actor.kind == "patient":
        if actor.own_patient_id is None:
            return Thread.objects.none()
        return Thread.objects.filter(kind=ThreadKind.PATIENT, patient_id=actor.own_patient_id)
    if actor.kind == "caregiver":
        return Thread.objects.filter(
            kind=ThreadKind.PATIENT, patient__in=messaging_patient_ids_for_caregiver(actor).values("pk")
        )
    if actor.kind != "staff":
        return Thread.objects.none()
    q = visible_patient_ids_q(actor)
    if q is None:
        return Thread.objects.none()
    visible_patients = Patient.objects.filter(q).values("pk")
    patient_threads = Q(kind=ThreadKind.PATIENT, patient__in=visible_patients)
    staff_threads = Q(kind=ThreadKind.STAFF) & (
        Q(participants__user_id=actor.user_id or 0) | Q(organization_id__in=actor.clinical_organization_ids)
    ) & (Q(patient__isnull=True) | Q(patient__in=visible_patients))
    return Thread.objects.filter(pk__in=Thread.objects.filter(patient_threads | staff_threads).values("pk"))


def _with_unread(qs: QuerySet[Thread], actor: Actor) -> QuerySet[Thread]:
    last_read = ThreadParticipant.objects.filter(thread=OuterRef("pk"), user_id=actor.user_id or 0).values(
        "last_read_message_id"
    )[:1]
    return qs.annotate(my_last_read=Coalesce(Subquery(last_read), Value(0), output_field=BigIntegerField())).annotate(
        unread=Count(
            "messages",
            filter=Q(messages__id__gt=F("my_last_read")) & ~Q(messages__author_id=actor.user_id),
            distinct=True,
        ),
        message_count=Count("messages", distinct=True),
    )


def thread_list_for(actor: Actor, *, box: str = "all", patient_id: int | None = None,
                    limit: int = 100, channel: str = "web") -> list[Thread]:
    """The inbox: threads newest first with ``unread`` counts; audited per patient disclosed.

    ``box``: "all" (every visible thread) or "mine" (threads the actor takes part in).
    """
    require_messages(actor)
    qs = thread_queryset_for(actor)
    if box == "mine":
        qs = qs.filter(participants__user_id=actor.user_id or 0)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    threads = list(
        _with_unread(qs, actor).select_related("patient", "organization").order_by("-last_message_at", "-id")[:limit]
    )
    patient_ids = [t.patient_id for t in threads if t.patient_id]
    if patient_ids:
        audit.log_patients_read(actor, patient_ids, category=CATEGORY, resource_type="Thread",
                                action=AuditAction.SEARCH, channel=channel)
    return threads


PICK_LIMIT = 20


def patients_to_write_about(actor: Actor, *, text: str = "", channel: str = "web") -> list[Patient]:
    """For a staff member's new message: the patients matching ``text`` (name words or an identifier), or, with
    no text, the patients on whose active care team they are; at most ``PICK_LIMIT``, audited as a search."""
    from oncoliaison.patients.selectors import patient_search_for

    require_messages(actor)
    if actor.kind != "staff":
        return []
    words = text.strip()
    if words:
        by_name = patient_search_for(actor, text=words)
        qs = by_name | patient_search_for(actor, identifier=words) if len(words.split()) == 1 else by_name
    else:
        qs = patient_search_for(actor).filter(care_teams__participants__user_id=actor.user_id or 0,
                                              care_teams__status="active")
    found = list(qs.distinct().order_by("family_name", "given_name", "id")[:PICK_LIMIT])
    if found:
        audit.log_patients_read(actor, [p.pk for p in found], category=CATEGORY, resource_type="Patient",
                                action=AuditAction.SEARCH, channel=channel)
    return found


def unread_count_for(actor: Actor) -> int:
    """Unread messages across the actor's visible threads (0 for actors without messages)."""
    if not may_use_messages(actor):
        return 0
    qs = _with_unread(thread_queryset_for(actor), actor)
    if actor.kind == "staff":
        qs = qs.filter(participants__user_id=actor.user_id or 0)
    return sum(getattr(t, "unread", 0) for t in qs.only("pk"))


def thread_get_for(actor: Actor, thread_id: int | str, *, channel: str = "web") -> Thread:
    """One thread with its messages, attachments and participants; the read is audited."""
    require_messages(actor)
    qs = thread_queryset_for(actor).select_related("patient", "organization", "created_by").prefetch_related(
        Prefetch("messages", queryset=Message.objects.select_related("author").prefetch_related("attachments")),
        Prefetch("participants", queryset=ThreadParticipant.objects.select_related("user").order_by("id")),
    )
    thread = get_visible_or_404(qs, thread_id)
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="Thread", resource_id=thread.pk,
              patient_id=thread.patient_id, channel=channel)
    return thread


def read_receipts(thread: Thread) -> dict[int, list[ThreadParticipant]]:
    """For each message id, the participants (other than its author) who have read it."""
    receipts: dict[int, list[ThreadParticipant]] = {}
    participants = list(thread.participants.all())
    for message in thread.messages.all():
        receipts[message.pk] = [
            p for p in participants
            if p.user_id != message.author_id and p.last_read_message_id and p.last_read_message_id >= message.pk
        ]
    return receipts

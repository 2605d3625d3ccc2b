"""JSON API: secure messages between a patient (or a proxy allowed to message) and the care team, and
among colleagues about a patient.

Only the message is stored; e-mail notices say that a message is waiting, never what it says.  Threads a
caller may not see answer 404 like missing ones; roles without messaging (researchers, view-only proxies,
API clients) answer 403.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of
from oncoliaison.core.access import get_visible_or_404
from oncoliaison.core.actor import Actor
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, error_responses
from oncoliaison.patients.selectors import access_patient

from . import selectors, services
from .models import Thread
from .schemas import InboxFilter, MessageIn, ThreadIn, ThreadOut, ThreadSummaryOut, UnreadOut

router = Router(tags=["messages"])


def _thread(actor: Actor, thread_id: Id) -> Thread:
    """The thread with messages and participants (the read is audited by the selector)."""
    return selectors.thread_get_for(actor, thread_id, channel=CHANNEL)


@router.get("/messages/threads", response={200: list[ThreadSummaryOut], **READ_ERRORS})
def message_thread_list(request: HttpRequest, filters: Query[InboxFilter]) -> list[Thread]:
    """The inbox: threads newest first, with unread counts."""
    actor = actor_of(request)
    return selectors.thread_list_for(actor, box=filters.box, patient_id=filters.patient_id, channel=CHANNEL)


@router.get("/messages/unread", response={200: UnreadOut, **error_responses(401)})
def message_unread_count(request: HttpRequest) -> dict[str, int]:
    """How many messages are waiting (0 for roles without messages)."""
    return {"unread": selectors.unread_count_for(actor_of(request))}


@router.post("/messages/threads", response={201: ThreadOut, **CREATE_ERRORS})
def message_thread_start(request: HttpRequest, payload: ThreadIn) -> Status[Thread]:
    """Start a thread.  A patient's (or proxy's) thread goes to their navigator; staff threads name the
    colleagues taking part."""
    actor = actor_of(request)
    selectors.require_messages(actor)
    patient = None
    if payload.patient_id is not None:
        patient = access_patient(actor, payload.patient_id, category=selectors.CATEGORY, channel=CHANNEL,
                                 audit_read=False)
    thread = services.thread_start(
        actor=actor, kind=str(payload.kind), subject=payload.subject, body=payload.body, patient=patient,
        participant_ids=payload.participant_ids, channel=CHANNEL,
    )
    return Status(201, _thread(actor, thread.pk))


@router.get("/messages/threads/{id:thread_id}", response={200: ThreadOut, **READ_ERRORS})
def message_thread_get(request: HttpRequest, thread_id: Id) -> Thread:
    """A thread with every message and who has read how far."""
    return _thread(actor_of(request), thread_id)


@router.post("/messages/threads/{id:thread_id}/messages", response={201: ThreadOut, **CREATE_ERRORS})
def message_post(request: HttpRequest, thread_id: Id, payload: MessageIn) -> Status[Thread]:
    """Reply in a thread."""
    actor = actor_of(request)
    selectors.require_messages(actor)
    thread = get_visible_or_404(selectors.thread_queryset_for(actor), thread_id)
    services.message_post(actor=actor, thread=thread, body=payload.body, channel=CHANNEL)
    return Status(201, _thread(actor, thread.pk))


@router.post("/messages/threads/{id:thread_id}/read", response={200: ThreadOut, **WRITE_ERRORS})
def message_thread_mark_read(request: HttpRequest, thread_id: Id) -> Thread:
    """Record that I have read the thread up to its latest message (my read receipt)."""
    actor = actor_of(request)
    thread = _thread(actor, thread_id)
    services.thread_mark_read(actor=actor, thread=thread, channel=CHANNEL)
    return _thread(actor, thread_id)

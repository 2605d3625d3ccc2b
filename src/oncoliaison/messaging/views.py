"""Secure-message pages: inbox with unread counts, a thread with its replies (htmx partial), new thread."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import ValidationFailed
from oncoliaison.core.views import actor_of, announce_change, form_error_from, is_htmx, maps_domain_errors
from oncoliaison.organisations.models import CLINICAL_ROLES, Membership
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import access_patient, contact_points_for
from oncoliaison.portal.rules import ProxyAction
from oncoliaison.portal.selectors import portal_subject_for

from . import selectors, services
from .forms import ReplyForm, StaffThreadStartForm, ThreadStartForm
from .models import Thread, ThreadKind
from .uploads import metadata_only_uploads


def link_base(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")


def _no_store(response: HttpResponse) -> HttpResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


def render(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    ctx.setdefault("LANGUAGE_CODE", translation.get_language())
    if ctx.get("patient") is not None and "contacts" not in ctx:  # the number "call …" shows
        ctx["contacts"] = contact_points_for(ctx["patient"])
    return django_render(request, template, ctx, status=status)


@login_required
@require_GET
@maps_domain_errors
def inbox(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    box = request.GET.get("box", "mine" if actor.kind == "staff" else "all")
    if box not in {"mine", "all"}:
        box = "all"
    threads = selectors.thread_list_for(actor, box=box)
    ctx: dict[str, Any] = {"threads": threads, "box": box, "is_staff": actor.kind == "staff",
                           "unread_total": sum(getattr(t, "unread", 0) for t in threads)}
    if actor.kind == "caregiver":
        ctx["patients"] = list(selectors.messaging_patient_ids_for_caregiver(actor).order_by("family_name"))
    return _no_store(render(request, "messaging/inbox.html", ctx))


def _colleagues(actor: Actor) -> list[tuple[int, str]]:
    rows = (
        Membership.objects.filter(organization_id__in=actor.clinical_organization_ids, role__in=CLINICAL_ROLES,
                                  active=True, user__is_active=True)
        .exclude(user_id=actor.user_id or 0)
        .select_related("user", "organization")
        .order_by("user__last_name", "user__first_name", "id")
    )
    seen: dict[int, str] = {}
    for m in rows:
        label = f"{m.user.get_full_name() or m.user.username} — {m.get_role_display()}, {m.organization.name}"
        seen.setdefault(m.user_id, label)
    return list(seen.items())


def _patient_for_new_thread(actor: Actor, patient_id: int | None) -> Patient:
    if actor.kind in {"patient", "caregiver"}:
        return portal_subject_for(actor, patient_id, need=ProxyAction.MESSAGE, category="messages").patient
    if patient_id is None:
        from oncoliaison.core.errors import NotFound

        raise NotFound()
    return access_patient(actor, patient_id, category="messages", channel="web")


@metadata_only_uploads
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def thread_new(request: HttpRequest, patient_id: int | None = None) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_messages(actor)
    if actor.kind == "staff" and patient_id is None:  # "New message" from the inbox: first, about whom
        text = request.GET.get("q", "")[:100]
        return _no_store(render(request, "messaging/pick_patient.html", {
            "q": text, "patients": selectors.patients_to_write_about(actor, text=text)}))
    patient = _patient_for_new_thread(actor, patient_id)
    form: ThreadStartForm
    if actor.kind == "staff":
        form = StaffThreadStartForm(request.POST or None, request.FILES or None, colleagues=_colleagues(actor),
                                    patient_has_account=patient.user_id is not None)
    else:
        form = ThreadStartForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind = data.get("kind", ThreadKind.PATIENT)
        try:
            thread = services.thread_start(
                actor=actor, kind=kind, subject=data["subject"], body=data["body"], patient=patient,
                participant_ids=data.get("participants") or [], attachments=form.attachment_data(),
                link_base=link_base(request),
            )
        except ValidationFailed as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("messaging:thread", thread_id=thread.pk)
    status = 400 if form.errors else 200
    return _no_store(render(request, "messaging/new.html", {"form": form, "patient": patient,
                                                             "is_staff": actor.kind == "staff"}, status=status))


def _thread_context(actor: Actor, thread: Thread, form: ReplyForm) -> dict[str, Any]:
    receipts = selectors.read_receipts(thread)
    thread_messages = list(thread.messages.all())
    for m in thread_messages:
        m.readers = receipts.get(m.pk, [])  # type: ignore[attr-defined]  # shown by the template
    return {
        "thread": thread,
        "thread_messages": thread_messages,
        "participants": list(thread.participants.all()),
        "form": form,
        "is_staff": actor.kind == "staff",
        "me": actor.user_id,
    }


@login_required
@require_GET
@maps_domain_errors
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    actor = actor_of(request)
    thread = selectors.thread_get_for(actor, thread_id)
    if services.thread_mark_read(actor=actor, thread=thread) is not None:
        thread = selectors.thread_get_for(actor, thread_id)  # fresh receipts
    return _no_store(render(request, "messaging/thread.html", _thread_context(actor, thread, ReplyForm())))


@metadata_only_uploads
@login_required
@require_POST
@maps_domain_errors
def thread_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    actor = actor_of(request)
    thread = selectors.thread_get_for(actor, thread_id)
    form = ReplyForm(request.POST, request.FILES or None)
    sent = False
    if form.is_valid():
        try:
            services.message_post(actor=actor, thread=thread, body=form.cleaned_data["body"],
                                  attachments=form.attachment_data(), link_base=link_base(request))
        except ValidationFailed as exc:
            form_error_from(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, _("Your reply was sent."))
                return redirect("messaging:thread", thread_id=thread.pk)
            thread = selectors.thread_get_for(actor, thread_id)
            form = ReplyForm()
            sent = True
    # htmx swaps only 2xx answers: the partial shows its own errors.
    status = 400 if form.errors and not is_htmx(request) else 200
    template = "messaging/thread.html#conversation" if is_htmx(request) else "messaging/thread.html"
    response = _no_store(render(request, template, _thread_context(actor, thread, form), status=status))
    if is_htmx(request) and sent:
        announce_change(response, _("Your reply was sent."))
    return response

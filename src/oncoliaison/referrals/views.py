"""Referral pages: the public self-referral, the provider referral form, the triage queue and the referral
detail with its triage actions.

The pages only translate: form -> service input, typed error -> message.  No patient identifier travels
in a query string (the queue filters are status and urgency only).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core import audit
from oncoliaison.core.access import require_staff
from oncoliaison.core.errors import Conflict, DomainError, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.views import actor_of, form_error_from, is_htmx, maps_domain_errors
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.selectors import access_patient

from . import replies, rules, selectors, selfreferral, services
from .forms import (
    AcceptForm,
    AttachmentFormSet,
    DeclineForm,
    MilestoneForm,
    NoteForm,
    ProviderReferralForm,
    ReplyForm,
    RequestInfoForm,
    SelfReferralForm,
    attachments_from,
)
from .models import OPEN_STATUSES, Referral, ReferralStatus, Urgency

# --- public self-referral ------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def self_referral(request: HttpRequest) -> HttpResponse:
    """No log-in.  Input errors are shown; every accepted submission gets the same confirmation."""
    form = SelfReferralForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = selfreferral.self_referral_submit(
                    data=form.to_data(), source_address=getattr(request, "source_address", ""),
                    honeypot=form.cleaned_data["website"],
                )
                if outcome is selfreferral.SelfReferralOutcome.THROTTLED:
                    # Said plainly, with the program's number: a shared computer (a clinic kiosk) must not
                    # lose a real request behind a "received" page.  What was typed stays in the form.
                    program = selfreferral.self_referral_organization()
                    return render(request, "referrals/self_referral.html",
                                  {"form": form, "not_accepted": True, "program_phone": program.phone,
                                   "program_name": program.name}, status=429)
                return redirect("refer:received")
            except ValidationFailed as exc:
                form_error_from(form, exc)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = 503
        if status == 200:
            status = 400
    return render(request, "referrals/self_referral.html", {"form": form}, status=status)


@never_cache
@require_GET
def self_referral_received(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/self_referral_received.html", {})


# --- provider referral ---------------------------------------------------------------------------------


def _choices(orgs: Any) -> list[tuple[int, str]]:
    return [(o.pk, o.name) for o in orgs]


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def referral_new(request: HttpRequest, patient_pk: int | None = None) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    if not actor.clinical_organization_ids:
        from oncoliaison.core.errors import Forbidden

        raise Forbidden("Referring a patient needs a clinical role at a hospital or cancer program.")
    patient = access_patient(actor, patient_pk, category="referral", channel="web") if patient_pk else None
    referring = Organization.objects.filter(pk__in=actor.clinical_organization_ids).order_by("name")
    form = ProviderReferralForm(request.POST or None, receiving=_choices(selectors.receiving_programs()),
                                referring=_choices(referring), person_known=patient is not None)
    attachments = AttachmentFormSet(request.POST or None, prefix="att")
    if request.method == "POST":
        if form.is_valid() & attachments.is_valid():
            mrn_system = referring.filter(pk=form.cleaned_data["referring_organization"]).values_list(
                "mrn_system", flat=True).first() or ""
            data = form.to_data(patient_id=patient.pk if patient else None, mrn_system=mrn_system,
                                attachments=attachments_from(attachments))
            try:
                referral = services.referral_create(actor=actor, data=data, channel="web")
            except (ValidationFailed, Conflict) as exc:
                form_error_from(form, exc, {"identifier": "mrn", "attachments": "__all__"})
            else:
                messages.success(request, "The referral was sent. You can follow it here.")
                return redirect("referrals:detail", referral.pk)
        status = 400
    else:
        status = 200
    return render(request, "referrals/referral_form.html",
                  {"form": form, "attachments": attachments, "patient": patient}, status=status)


# --- triage queue and lists --------------------------------------------------------------------------------


QUEUE_LIMIT = 200


class QueueFilter(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[
        ("", "Received or waiting for information"),
        *[(s.value, s.label) for s in OPEN_STATUSES]])
    urgency = forms.ChoiceField(label="Urgency", required=False, choices=[("", "Any"), *Urgency.choices])


@login_required
@require_GET
@maps_domain_errors
def triage_queue(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_triage_role(actor)
    flt = QueueFilter(request.GET or None)
    status = urgency = ""
    if flt.is_valid():
        status, urgency = flt.cleaned_data["status"], flt.cleaned_data["urgency"]
    from oncoliaison.core import clock

    now = clock.now()
    rows = [
        (r, rules.first_contact_overdue(r.urgency, r.received_at, r.first_contact_at, now))
        for r in selectors.triage_queue_for(actor, status=status, urgency=urgency, limit=QUEUE_LIMIT)
    ]
    ctx = {"filter": flt, "rows": rows, "now": now, "limit": QUEUE_LIMIT}
    template = "referrals/queue.html#queue" if is_htmx(request) else "referrals/queue.html"
    return render(request, template, ctx)


@login_required
@require_GET
@maps_domain_errors
def referral_list(request: HttpRequest) -> HttpResponse:
    """All recent referrals the person may see, or those they sent (``?sent=1``)."""
    actor = actor_of(request)
    require_staff(actor)
    sent = request.GET.get("sent") == "1"
    status = request.GET.get("status", "")
    rows = selectors.referral_list_for(actor, sent_by_me=sent, status=status)
    return render(request, "referrals/list.html", {"rows": rows, "sent": sent, "status": status,
                                                   "statuses": ReferralStatus.choices})


# --- detail and triage actions --------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, referral: Referral, **forms_in: forms.Form) -> dict[str, Any]:
    actor = actor_of(request)
    triage = services.may_triage(actor, referral)
    actions = rules.allowed_actions(referral.status) if triage else frozenset()
    may_withdraw = referral.is_open and (triage or (actor.user_id == referral.referring_clinician_id))
    may_reply = replies.may_reply(actor, referral)
    ctx: dict[str, Any] = {
        "referral": referral,
        "history": referral.history.select_related("by_user"),
        "attachments": referral.attachments.all(),
        "triage": triage,
        "actions": actions,
        "may_withdraw": may_withdraw,
        "may_reply": may_reply,
        "reply_form": forms_in.get("reply_form") or ReplyForm(),
        "may_contact": triage and referral.status in (*OPEN_STATUSES, ReferralStatus.ACCEPTED),
        "may_appointment": triage and referral.status == ReferralStatus.ACCEPTED,
        "may_enroll": triage and referral.status == ReferralStatus.ACCEPTED and not referral.episodes.exists(),
        "episodes": referral.episodes.all() if triage else [],
        "info_form": forms_in.get("info_form") or RequestInfoForm(),
        "info_received_form": forms_in.get("info_received_form") or NoteForm(prefix="ir"),
        "decline_form": forms_in.get("decline_form") or DeclineForm(),
        "withdraw_form": forms_in.get("withdraw_form") or NoteForm(prefix="wd"),
        "contact_form": forms_in.get("contact_form") or MilestoneForm(prefix="ct"),
        "appointment_form": forms_in.get("appointment_form") or MilestoneForm(
            prefix="ap", initial={"at": referral.first_appointment_at}),
    }
    return ctx


@login_required
@require_GET
@maps_domain_errors
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get_for(actor_of(request), pk, channel="web")
    return render(request, "referrals/detail.html", _detail_context(request, referral))


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _act(request: HttpRequest, pk: int, form_key: str, form: forms.Form, run: Any, done: str) -> HttpResponse:
    """Run a triage action from the detail page; on a problem, show the page again with the message."""
    actor = actor_of(request)
    referral = selectors.referral_get_for(actor, pk, channel="web", audit_read=False)
    status, action_error = 400, ""
    if form.is_valid():
        try:
            run(actor, referral, form.cleaned_data)
        except ValidationFailed as exc:
            form_error_from(form, exc)
        except (Conflict, PreconditionFailed) as exc:
            action_error, status = exc.message, exc.status
        else:
            messages.success(request, done)
            return redirect("referrals:detail", pk)
    referral.refresh_from_db()
    ctx = _detail_context(request, referral, **{form_key: form})
    ctx["open_action"], ctx["action_error"] = form_key, action_error
    return render(request, "referrals/detail.html", ctx, status=status)


@login_required
@require_POST
@maps_domain_errors
def referral_request_info(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "info_form", RequestInfoForm(request.POST),
                lambda a, r, d: services.referral_request_info(actor=a, referral=r, message=d["message"],
                                                               expected_version=_version(request), channel="web"),
                "More information was requested.")


@login_required
@require_POST
@maps_domain_errors
def referral_info_received(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "info_received_form", NoteForm(request.POST, prefix="ir"),
                lambda a, r, d: services.referral_info_received(actor=a, referral=r, note=d["note"],
                                                                expected_version=_version(request), channel="web"),
                "The referral is back in the queue for a decision.")


@login_required
@require_POST
@maps_domain_errors
def referral_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "decline_form", DeclineForm(request.POST),
                lambda a, r, d: services.referral_decline(actor=a, referral=r, reason=d["reason"],
                                                          message=d["message"], expected_version=_version(request),
                                                          channel="web"),
                "The referral was declined. The letter to the referrer is below.")


@login_required
@require_POST
@maps_domain_errors
def referral_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "withdraw_form", NoteForm(request.POST, prefix="wd"),
                lambda a, r, d: services.referral_withdraw(actor=a, referral=r, note=d["note"],
                                                           expected_version=_version(request), channel="web"),
                "The referral was withdrawn.")


@login_required
@require_POST
@maps_domain_errors
def referral_contact(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "contact_form", MilestoneForm(request.POST, prefix="ct"),
                lambda a, r, d: services.referral_record_contact(actor=a, referral=r, at=d["at"], note=d["note"],
                                                                 expected_version=_version(request), channel="web"),
                "The contact was recorded.")


@login_required
@require_POST
@maps_domain_errors
def referral_first_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "appointment_form", MilestoneForm(request.POST, prefix="ap"),
                lambda a, r, d: services.referral_set_first_appointment(
                    actor=a, referral=r, at=d["at"], note=d["note"], expected_version=_version(request),
                    channel="web"),
                "The first appointment was recorded.")


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def referral_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept: show possible existing records of the person, then link one or register a new patient."""
    actor = actor_of(request)
    referral = selectors.referral_get_for(actor, pk, channel="web")
    if not services.may_triage(actor, referral):
        from oncoliaison.core.errors import Forbidden

        raise Forbidden("Triage is for the clinical staff of the program that received the referral.")
    form = AcceptForm(request.POST or None, initial={"first_contact_at": timezone.localtime().replace(
        second=0, microsecond=0)} if referral.first_contact_at is None else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            choice = form.cleaned_data["choice"]
            try:
                referral = services.referral_accept(
                    actor=actor, referral=referral,
                    link_patient_id=int(choice[5:]) if choice.startswith("link-") else None,
                    register_new=choice == "new" and referral.patient_id is None,
                    duplicates_reviewed=form.cleaned_data["duplicates_reviewed"],
                    gender=form.cleaned_data["gender"], first_contact_at=form.cleaned_data["first_contact_at"],
                    expected_version=_version(request), channel="web",
                )
            except services.DuplicatesFound as exc:
                form.add_error(None, exc.message)
                status = 409
            except ValidationFailed as exc:
                form_error_from(form, exc, {"patient_choice": "choice"})
            except (Conflict, PreconditionFailed) as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, "The referral was accepted. Enroll the patient in the program next.")
                return redirect("referrals:detail", referral.pk)
    candidates = [] if referral.patient_id else selectors.duplicate_candidates(actor, referral, channel="web")
    return render(request, "referrals/accept.html",
                  {"referral": referral, "form": form, "candidates": candidates}, status=status)


def detail_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


@login_required
@require_POST
@maps_domain_errors
def referral_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The referrer replies to a request for information, with the documents asked for."""
    form = ReplyForm(request.POST, request.FILES)
    return _act(request, pk, "reply_form", form,
                lambda a, r, d: replies.referral_reply(
                    actor=a, referral=r, message=d["message"], expected_version=_version(request),
                    files=[replies.ReplyFile(f.name or "", f.size or 0, f) for f in d["documents"]], channel="web"),
                "Your reply was sent to the program.")


@login_required
@require_GET
@maps_domain_errors
def referral_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """A document uploaded with a reply, to those who may see the referral (audited)."""
    actor = actor_of(request)
    referral = selectors.referral_get_for(actor, pk, channel="web", audit_read=False)
    doc = referral.attachments.filter(pk=attachment_pk).exclude(file="").first()
    if doc is None:
        raise NotFound()
    audit.log(actor, AuditAction.READ, category="referral", resource_type="DocumentReference", resource_id=doc.pk,
              patient_id=referral.patient_id, channel="web")
    response = FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.name,
                            content_type=doc.content_type or "application/octet-stream")
    response["Cache-Control"] = "no-store"
    return response

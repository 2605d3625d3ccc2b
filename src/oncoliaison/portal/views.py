"""Portal pages for patients and caregivers (large text, mobile first), invitation acceptance, and the staff
page that invites a patient."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core import clock, prg
from oncoliaison.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from oncoliaison.core.views import actor_of, form_error_from, maps_domain_errors
from oncoliaison.patients.selectors import access_patient, contact_points_for, require_patient_access_role
from oncoliaison.tumorboards.selectors import released_summaries_for

from . import sections, selectors, services
from .forms import AcceptInvitationForm, CaregiverGrantForm, PatientInviteForm
from .rules import ProxyAction


def _render(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    ctx.setdefault("LANGUAGE_CODE", translation.get_language())
    if "patient" in ctx and "contacts" not in ctx:  # the numbers every "call …" on the page shows
        ctx["contacts"] = contact_points_for(ctx["patient"])
    response = render(request, template, ctx, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_base(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")


# --- home ---------------------------------------------------------------------------------------------


def _patient_page(request: HttpRequest, subject: selectors.PortalSubject) -> HttpResponse:
    from oncoliaison.messaging import selectors as msg

    actor = actor_of(request)
    patient = subject.patient
    ctx: dict[str, Any] = {
        "subject": subject,
        "patient": patient,
        "care_team": selectors.care_team_for(patient),
        "plan": sections.care_plan_section(actor, patient),
        "resources": sections.resources_section(actor, patient),
        "symptoms": sections.symptom_section(actor, patient),
        "alert_responses": sections.alert_response_section(actor, patient, proxy=subject.is_proxy),
        "may_report": subject.allows(ProxyAction.REPORT),
        "may_message": subject.allows(ProxyAction.MESSAGE),
        "board_summaries": released_summaries_for(patient.pk),
    }
    if ctx["may_message"]:
        threads = msg.thread_queryset_for(actor).filter(patient=patient)
        ctx["unread"] = msg.unread_count_for(actor) if not subject.is_proxy else 0
        ctx["thread_count"] = threads.count()
    return _render(request, "portal/home.html", ctx)


@login_required
@require_GET
@maps_domain_errors
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind == "patient":
        return _patient_page(request, selectors.portal_subject_for(actor))
    if actor.kind == "caregiver":
        grants = selectors.caregiver_grants_for(actor)
        if len(grants) == 1:
            return redirect("portal:for_patient", patient_id=grants[0].patient_id)
        return _render(request, "portal/caregiver_home.html", {"grants": grants})
    return redirect("home:home")


@login_required
@require_GET
@maps_domain_errors
def for_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind == "patient":
        selectors.portal_subject_for(actor, patient_id)  # 404 unless it is their own
        return redirect("portal:home")
    return _patient_page(request, selectors.portal_subject_for(actor, patient_id))


# --- symptom reporting -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def report(request: HttpRequest, patient_id: int | None = None) -> HttpResponse:
    from .reporting import report_page

    actor = actor_of(request)
    subject = selectors.portal_subject_for(actor, patient_id, need=ProxyAction.REPORT, category="symptoms")
    return report_page(request, actor, subject, _render)


@login_required
@require_GET
@maps_domain_errors
def report_sent(request: HttpRequest, report_id: int, patient_id: int | None = None) -> HttpResponse:
    from .reporting import report_sent_page

    actor = actor_of(request)
    subject = selectors.portal_subject_for(actor, patient_id, category="symptoms")
    return report_sent_page(request, actor, subject, report_id, _render)


# --- support network ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def support(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind != "patient":
        from oncoliaison.core.errors import Forbidden

        raise Forbidden(_("Only the patient manages who may help with their care."))
    subject = selectors.portal_subject_for(actor, category="consent")
    form = CaregiverGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            grant = services.caregiver_invite(
                actor=actor, patient=subject.patient, given_name=d["given_name"], family_name=d["family_name"],
                email=d["email"], scope=d["scope"], link_base=_link_base(request),
            )
        except (ValidationFailed, Conflict) as exc:
            form_error_from(form, exc)
        else:
            name = f"{d['given_name']} {d['family_name']}"
            if grant.invitation is None:
                messages.success(request, _("%(name)s now has access. They can see it when they sign in.")
                                 % {"name": name})
            else:
                messages.success(request, _("%(name)s now has access. We e-mailed them a link to set up their "
                                            "account; it works once, for 7 days.") % {"name": name})
                prg.stash(request, "caregiver-link", {"link": grant.invitation.link})
            return redirect("portal:support")  # post/redirect/get: a reload invites nobody again
    stashed = prg.take(request, "caregiver-link") if request.method == "GET" else None
    ctx = {
        "patient": subject.patient,
        "people": selectors.support_network_for(actor, subject.patient),
        "form": form,
        "issued_link": stashed["link"] if stashed else "",
    }
    return _render(request, "portal/support.html", ctx, status=400 if form.errors else 200)


@login_required
@require_POST
@maps_domain_errors
def support_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    actor = actor_of(request)
    subject = selectors.portal_subject_for(actor, category="consent")
    consent = selectors.proxy_consent_for(actor, subject.patient, consent_id)
    services.caregiver_revoke(actor=actor, consent=consent)
    messages.success(request, _("Access removed. That person can no longer see or do anything for you."))
    return redirect("portal:support")


@login_required
@require_POST
@maps_domain_errors
def support_resend(request: HttpRequest, consent_id: int) -> HttpResponse:
    actor = actor_of(request)
    subject = selectors.portal_subject_for(actor, category="consent")
    consent = selectors.proxy_consent_for(actor, subject.patient, consent_id)
    try:
        services.caregiver_invitation_resend(actor=actor, consent=consent, link_base=_link_base(request))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("We sent a new link. The old one no longer works."))
    return redirect("portal:support")


# --- invitations ---------------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        return _render(request, "portal/invite_signed_in.html", {}, status=409)
    try:
        invitation = services.invitation_for_token(token)
    except NotFound:
        return _render(request, "portal/invite_invalid.html", {}, status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"],
                source_address=getattr(request, "source_address", ""),
            )
        except NotFound:
            return _render(request, "portal/invite_invalid.html", {}, status=404)
        except DomainError as exc:
            form_error_from(form, exc, aliases={"password": "password1"})
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:welcome")
    ctx = {"form": form, "invitation": invitation}
    return _render(request, "portal/invite_accept.html", ctx, status=400 if form.errors else 200)


@login_required
@require_GET
def welcome(request: HttpRequest) -> HttpResponse:
    return _render(request, "portal/welcome.html", {})


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def staff_invite(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Staff invite a patient to the portal; the link is shown once, and e-mailed."""
    actor = actor_of(request)
    require_patient_access_role(actor)
    patient = access_patient(actor, patient_id, category="portal-account", channel="web")
    form = PatientInviteForm(request.POST or None, initial={"email": patient.email})
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.invitation_create(actor=actor, patient=patient, email=form.cleaned_data["email"],
                                                link_base=_link_base(request))
        except (ValidationFailed, Conflict) as exc:
            form_error_from(form, exc)
        else:
            # Post/redirect/get: the link is shown once on the next page; a reload sends no new invitation.
            prg.stash(request, f"patient-invite-{patient.pk}", {"link": issued.link})
            return redirect("portal:staff_invite", patient_id=patient.pk)
    shown = prg.take(request, f"patient-invite-{patient.pk}") if request.method == "GET" else None
    existing = list(selectors.invitations_for_patient(actor, patient)[:10])
    ctx = {"patient": patient, "form": form, "issued": shown, "invitations": existing, "now": clock.now()}
    return _render(request, "portal/staff_invite.html", ctx, status=400 if form.errors else 200)

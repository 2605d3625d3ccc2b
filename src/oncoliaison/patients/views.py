"""Patient pages: search, summary (printable), registration, demographics, consents.

Identifiers never travel in a URL query string: the search form POSTs, pagination is a POST button.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, require_staff
from oncoliaison.core.errors import DomainError, Forbidden, PreconditionFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.prg import renders_on_post
from oncoliaison.core.views import (
    PAGE_SIZE,
    actor_of,
    form_error_from,
    is_htmx,
    login_required_htmx,
    maps_domain_errors,
)
from oncoliaison.oncology.selectors import current_conditions
from oncoliaison.organisations.models import Organization
from oncoliaison.tumorboards.selectors import board_discussions

from . import selectors, services
from .forms import (
    CONSENT_ERROR_FIELDS,
    LANGUAGES,
    PATIENT_ERROR_FIELDS,
    ConsentForm,
    PatientForm,
    PatientSearchForm,
)
from .models import CareTeamParticipant, ConsentKind, ConsentStatus, Patient, PatientIdentifier


def _require_clinical_staff(request: HttpRequest) -> None:
    actor = actor_of(request)
    require_staff(actor)
    selectors.require_patient_access_role(actor)


@renders_on_post  # a search: POST keeps names and identifiers out of URLs
@login_required_htmx
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def patient_list(request: HttpRequest) -> HttpResponse:
    _require_clinical_staff(request)
    actor = actor_of(request)
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    ctx: dict[str, Any] = {"form": form, "page": None}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            qs = selectors.patient_search_for(
                actor, text=d["text"], birth_date=d["birth_date"], identifier=d["identifier"]
            ).prefetch_related(
                Prefetch("identifiers", queryset=PatientIdentifier.objects.filter(type_code="MR"), to_attr="mrns")
            )
            page = Paginator(qs, PAGE_SIZE).get_page(d.get("page") or 1)
            audit.log_patients_read(actor, [p.pk for p in page.object_list], category="demographics",
                                    resource_type="Patient", action=AuditAction.SEARCH, channel="web")
            ctx["page"] = page
        elif not is_htmx(request):  # htmx swaps only 2xx responses; the error summary must still show
            status = 400
    template = "patients/list.html#results" if is_htmx(request) else "patients/list.html"
    return render(request, template, ctx, status=status)


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    patient = selectors.access_patient(actor, pk, category="summary", channel="web")
    care_teams = (
        selectors.care_team_queryset_for(actor)
        .filter(patient=patient)
        .prefetch_related(Prefetch("participants", queryset=CareTeamParticipant.objects
                                   .filter(selectors.current_participant_q()).select_related("user")))
        .select_related("organization")
    )
    consents = (
        selectors.consent_queryset_for(actor)
        .filter(patient=patient)
        .select_related("grantee_organization", "grantee_user", "organization")
        .order_by("status", "-created_at")
    )
    ctx = {
        "patient": patient,
        "identifiers": list(patient.identifiers.select_related("organization").order_by("type_code", "system")),
        "care_teams": list(care_teams),
        "consents": list(consents),
        "conditions": list(current_conditions(patient)),
        "language_name": dict(LANGUAGES).get(patient.preferred_language, patient.preferred_language),
        "can_edit": actor.kind == "staff" and bool(actor.clinical_organization_ids),
        "can_consent": actor.kind in {"staff", "patient"} and (actor.kind == "patient"
                                                               or bool(actor.clinical_organization_ids)),
        **board_discussions(actor, patient),
    }
    return render(request, "patients/detail.html", ctx)


@login_required
@require_POST
@maps_domain_errors
def patient_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the summary is being printed; the browser then prints the page."""
    actor = actor_of(request)
    patient = selectors.access_patient(actor, pk, category="summary", channel="web", audit_read=False)
    audit.log(actor, AuditAction.PRINT, category="summary", resource_type="Patient", resource_id=patient.pk,
              patient_id=patient.pk, channel="web")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    messages.info(request, "Printing is recorded. Use your browser's Print command (Ctrl+P) to print this summary.")
    return redirect("patients:detail", pk=patient.pk)


def _patient_form_orgs(request: HttpRequest) -> list[Organization]:
    actor = actor_of(request)
    return list(Organization.objects.filter(pk__in=actor.clinical_organization_ids, active=True).order_by("name"))


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def patient_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    if not actor.clinical_organization_ids:
        raise Forbidden("Registering patients needs a care role in a cancer program or hospital.")
    orgs = _patient_form_orgs(request)
    form = PatientForm(request.POST if request.method == "POST" else None, organizations=orgs)
    if request.method == "POST" and form.is_valid():
        org = next(o for o in orgs if o.pk == form.cleaned_data["organization"])
        try:
            patient = services.patient_create(actor=actor, data=form.to_data(organization_mrn_system=org.mrn_system
                                                                              or f"urn:oncoliaison:{org.slug}:mrn"),
                                              channel="web")
        except Forbidden:
            raise
        except DomainError as exc:
            form_error_from(form, exc, PATIENT_ERROR_FIELDS)
        else:
            messages.success(request, "The patient is registered.")
            return redirect("patients:detail", pk=patient.pk)
    status = 400 if form.errors else 200
    return render(request, "patients/form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    patient = selectors.access_patient(actor, pk, channel="web", audit_read=request.method == "GET")
    current: Patient | None = None
    if request.method == "POST":
        form = PatientForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.patient_update(actor=actor, patient=patient, data=form.to_data(),
                                        expected_version=form.cleaned_data["version"], channel="web")
            except PreconditionFailed:
                current = Patient.objects.get(pk=patient.pk)
                form.add_error(None, "Someone else changed this record after you opened it. Their version is "
                                     "shown beside the form. Check it, then save your change again.")
                refreshed = request.POST.copy()
                refreshed["version"] = str(current.version)
                form.data = refreshed
            except Forbidden:
                raise
            except DomainError as exc:
                form_error_from(form, exc, PATIENT_ERROR_FIELDS)
            else:
                messages.success(request, "The patient's details are saved.")
                return redirect("patients:detail", pk=patient.pk)
    else:
        initial = {name: getattr(patient, name) for name in PatientForm.base_fields if hasattr(patient, name)}
        form = PatientForm(initial=initial, editing=True)
    status = 409 if current else (400 if form.errors else 200)
    return render(request, "patients/form.html", {"form": form, "patient": patient, "current": current},
                  status=status)


def _consent_kinds_for(kind: str) -> list[str]:
    if kind == "patient":
        return [ConsentKind.CAREGIVER_PROXY, ConsentKind.DATA_SHARING, ConsentKind.RESEARCH]
    return list(ConsentKind.values)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind == "caregiver":
        raise Forbidden("Caregivers cannot change consents.")
    patient = selectors.access_patient(actor, pk, category="consent", channel="web",
                                       audit_read=request.method == "GET")
    if actor.kind == "staff" and not actor.clinical_organization_ids:
        raise Forbidden("Recording consent needs a care role.")
    form = ConsentForm(request.POST if request.method == "POST" else None, allowed_kinds=_consent_kinds_for(actor.kind))
    if request.method == "POST" and form.is_valid():
        grantee_user_id = None
        if form.cleaned_data["kind"] == ConsentKind.CAREGIVER_PROXY and form.cleaned_data["caregiver_username"]:
            grantee = User.objects.filter(username=form.cleaned_data["caregiver_username"].strip(),
                                          kind=UserKind.CAREGIVER, is_active=True).first()
            if grantee is None:
                form.add_error("caregiver_username", "No active caregiver account has this user name.")
            else:
                grantee_user_id = grantee.pk
        if not form.errors:
            try:
                services.consent_create(actor=actor, patient=patient, data=form.to_data(grantee_user_id),
                                        channel="web")
            except Forbidden:
                raise
            except DomainError as exc:
                form_error_from(form, exc, CONSENT_ERROR_FIELDS)
            else:
                messages.success(request, "The consent is recorded.")
                return redirect("patients:detail", pk=patient.pk)
    status = 400 if form.errors else 200
    return render(request, "patients/consent_form.html", {"form": form, "patient": patient}, status=status)


@login_required
@require_POST
@maps_domain_errors
def consent_revoke(request: HttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    actor = actor_of(request)
    patient = selectors.access_patient(actor, pk, category="consent", channel="web", audit_read=False)
    consent = get_visible_or_404(
        selectors.consent_queryset_for(actor).filter(patient=patient).select_related("patient"), consent_pk
    )
    if consent.status != ConsentStatus.ACTIVE:
        messages.info(request, "This consent is no longer active.")
    else:
        try:
            services.consent_revoke(actor=actor, consent=consent, channel="web")
        except PreconditionFailed:
            messages.error(request, "This consent was changed by someone else. Check it and try again.")
        else:
            messages.success(request, "The consent is revoked. Access based on it has ended.")
    if actor.kind == "patient" and request.POST.get("return") == "home":
        return redirect("home:home")
    return redirect("patients:detail", pk=patient.pk)

"""Program pages: enrollment (from an accepted referral or for a patient), the episode page, the list."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.views import actor_of, form_error_from, maps_domain_errors
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import CareTeamParticipant
from oncoliaison.patients.selectors import access_patient, care_team_queryset_for, current_participant_q
from oncoliaison.referrals.selectors import referral_get_for
from oncoliaison.referrals.services import may_triage

from . import rules, selectors, services
from .forms import EnrollForm, EpisodeStatusForm
from .models import EpisodeStatus


def _people(users: Any) -> list[tuple[int, str]]:
    return [(u.pk, u.display_name) for u in users]


def _enroll(request: HttpRequest, *, organization: Organization, patient: Any, referral: Any) -> HttpResponse:
    actor = actor_of(request)
    form = EnrollForm(request.POST or None, navigators=_people(selectors.navigators_of(organization.pk)),
                      clps=_people(selectors.clps_of(organization.pk)),
                      initial={"navigator": actor.user_id})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                episode = services.episode_enroll(
                    actor=actor, navigator_id=d["navigator"], clp_id=d["clp"], start=d["start"],
                    referral=referral, patient=None if referral else patient,
                    organization_id=organization.pk, channel="web",
                )
            except ValidationFailed as exc:
                form_error_from(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, "The patient is enrolled. The navigator and the CLP are on the care team.")
                return redirect("programs:detail", episode.pk)
    return render(request, "programs/enroll.html", {"form": form, "organization": organization, "patient": patient,
                                                    "referral": referral}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def enroll_from_referral(request: HttpRequest, referral_pk: int) -> HttpResponse:
    actor = actor_of(request)
    referral = referral_get_for(actor, referral_pk, channel="web")
    if not may_triage(actor, referral):
        raise Forbidden("Enrollment is done by the clinical staff of the program.")
    if referral.patient is None:
        raise Forbidden("Accept the referral before enrolling the patient.")
    return _enroll(request, organization=referral.receiving_organization, patient=referral.patient,
                   referral=referral)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def enroll_patient(request: HttpRequest, patient_pk: int) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Enrollment is done by the clinical staff of the program.")
    patient = access_patient(actor, patient_pk, category=selectors.CATEGORY, channel="web")
    orgs = Organization.objects.filter(pk__in=actor.clinical_organization_ids).order_by("pk")
    organization = orgs.filter(pk=patient.organization_id).first() or orgs.first()
    assert organization is not None
    return _enroll(request, organization=organization, patient=patient, referral=None)


@login_required
@require_GET
@maps_domain_errors
def episode_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    episode = selectors.episode_get_for(actor, pk, channel="web")
    return _render_episode(request, episode, EpisodeStatusForm())


def _render_episode(request: HttpRequest, episode: Any, status_form: EpisodeStatusForm,
                    status: int = 200) -> HttpResponse:
    actor = actor_of(request)
    teams = (
        care_team_queryset_for(actor)
        .filter(patient_id=episode.patient_id, status="active")
        .prefetch_related(Prefetch("participants", queryset=CareTeamParticipant.objects
                                   .filter(current_participant_q()).select_related("user")
                                   .order_by("role", "user__last_name")))
        .select_related("organization")
    )
    staff = actor.kind == "staff" and episode.organization_id in actor.clinical_organization_ids
    next_statuses = sorted(rules.TRANSITIONS.get(episode.status, frozenset())) if staff else []
    field = cast(forms.ChoiceField, status_form.fields["status"])
    field.choices = [(s, label) for s, label in EpisodeStatus.choices if s in next_statuses]
    return render(request, "programs/detail.html", {
        "episode": episode, "teams": teams, "staff": staff, "status_form": status_form,
        "may_change_status": bool(next_statuses),
        "handoffs": list(episode.handoffs.select_related("from_navigator", "to_navigator", "by")) if staff else [],
    }, status=status)


@login_required
@require_POST
@maps_domain_errors
def episode_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    episode = selectors.episode_get_for(actor, pk, channel="web")
    form = EpisodeStatusForm(request.POST)
    if form.is_valid():
        raw = request.POST.get("version", "")
        try:
            services.episode_set_status(actor=actor, episode=episode, status=form.cleaned_data["status"],
                                        note=form.cleaned_data["note"],
                                        expected_version=int(raw) if raw.isdigit() else None, channel="web")
        except ValidationFailed as exc:
            form_error_from(form, exc)
        except (Conflict, PreconditionFailed) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "The episode's status was changed.")
            return redirect("programs:detail", pk)
    episode.refresh_from_db()
    return _render_episode(request, episode, form, status=400)


@login_required
@require_GET
@maps_domain_errors
def episode_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    show_all = request.GET.get("all") == "1"
    rows = selectors.episode_list_for(actor, open_only=not show_all)
    return render(request, "programs/list.html", {"rows": rows, "show_all": show_all})

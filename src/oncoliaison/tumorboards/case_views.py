"""Pages of tumor-board cases: submission from a patient's record, the case page with its packet (printable),
the coordinator's decision, the board's conclusions and recommendations, the patient's summary, addenda and
concordance.  Views only translate: selectors read, services write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.roles import Role
from oncoliaison.core.views import form_error_from, maps_domain_errors
from oncoliaison.patients.selectors import access_patient

from . import selectors, services
from .forms import DiscussionForm, RecommendationForm, SubmitForm
from .models import BoardCase, CaseStatus, Concordance, MeetingStatus, Recommendation, SummaryStatus
from .views import DOMAIN_ERRORS, first_error, people_choices, staff_actor


def case_panel_context(actor: Actor, case: BoardCase) -> dict[str, Any]:
    """What the case page, presenter mode and the minutes show of one case."""
    coordinates = selectors.may_coordinate(actor, case.meeting.series)
    open_record = case.packet_frozen_at is None and case.meeting.status == MeetingStatus.IN_PROGRESS
    people = people_choices(case.meeting.series) if coordinates and open_record else []
    return {
        "case": case, "packet": case.packet or {}, "coordinates": coordinates,
        "recommendations": list(case.recommendations.select_related("responsible", "task").order_by("pk")),
        "addenda": list(case.addenda.select_related("author")),
        "may_record": coordinates and open_record and case.status in (CaseStatus.ACCEPTED, CaseStatus.DISCUSSED),
        "discussion_form": DiscussionForm(initial={
            "stage_discussed": case.stage_discussed, "stage_agreed": case.stage_agreed,
            "stage_edition": case.stage_edition or "AJCC 8th", "guideline_body": case.guideline_body,
            "guideline_name": case.guideline_name, "guideline_version": case.guideline_version,
            "trial_discussed": case.trial_discussed, "trials": case.trials, "discussion": case.discussion,
            "version": case.version}, prefix=f"d{case.pk}"),
        "recommendation_form": RecommendationForm(people=people, prefix=f"r{case.pk}"),
    }


def _may_summarise(actor: Actor, case: BoardCase) -> bool:
    roles = actor.roles_in(case.patient.organization_id) | actor.roles_in(case.meeting.series.organization_id)
    return bool(roles & {Role.NAVIGATOR, Role.CLP})


def _back(request: HttpRequest, case: BoardCase, exc: DomainError | None = None, done: str = "",
          to: str = "") -> HttpResponse:
    if exc is not None:
        messages.error(request, first_error(exc))
    elif done:
        messages.success(request, done)
    if to == "present" or request.POST.get("next") == "present":
        return redirect("tumorboards:present", pk=case.meeting_id)
    return redirect("tumorboards:case", pk=case.pk)


# --- submission ---------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def case_submit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Submit a patient to an upcoming meeting of a series the clinician takes part in."""
    actor = staff_actor(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    meetings = selectors.upcoming_meetings_for(actor, now=clock.now(), limit=40)
    meetings = [m for m in meetings if m.status == MeetingStatus.SCHEDULED and m.starts_at > clock.now()]
    attendees: dict[int, str] = {}
    for series in {m.series for m in meetings}:
        attendees.update(people_choices(series))
    form = SubmitForm(request.POST or None, meetings=[
        (m.pk, f"{m.series.name} — {m.starts_at:%a %Y-%m-%d %H:%M}") for m in meetings],
        attendees=sorted(attendees.items(), key=lambda kv: kv[1]))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        meeting = next(m for m in meetings if m.pk == d["meeting"])
        try:
            case = services.case_submit(actor=actor, meeting=meeting, data=services.CaseData(
                patient_id=patient.pk, question=d["question"], prospective=d["prospective"], urgency=d["urgency"],
                requested_attendee_ids=list(d["requested_attendees"]), attachments=form.attachments()))
        except DOMAIN_ERRORS as exc:
            form_error_from(form, exc, {"requested_attendees": "requested_attendees"})
        else:
            messages.success(request, "The case was submitted; the coordinator decides whether it is discussed.")
            return redirect("tumorboards:case", pk=case.pk)
    return render(request, "tumorboards/submit.html", {"form": form, "patient": patient, "meetings": meetings})


# --- the case page ------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk)
    ctx = case_panel_context(actor, case)
    ctx.update({
        "may_summarise": _may_summarise(actor, case) and case.status == CaseStatus.DISCUSSED,
        "summary_text": case.summary or (services.draft_summary(case) if case.status == CaseStatus.DISCUSSED else ""),
        "later_meetings": [m for m in selectors.upcoming_meetings_for(actor, now=clock.now())
                           if m.series_id == case.meeting.series_id and m.pk != case.meeting_id
                           and m.status == MeetingStatus.SCHEDULED],
        "concordance_choices": Concordance.choices,
    })
    return render(request, "tumorboards/case.html", ctx)


@login_required
@require_POST
@maps_domain_errors
def case_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the case packet is printed; the browser then prints the page."""
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    audit.log(actor, AuditAction.PRINT, category=selectors.CATEGORY, resource_type="BoardCase", resource_id=case.pk,
              patient_id=case.patient_id, channel="web")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    messages.info(request, "Printing is recorded. Use your browser's Print command (Ctrl+P) to print this case.")
    return redirect("tumorboards:case", pk=case.pk)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    to_meeting = None
    try:
        if request.POST.get("to_meeting"):
            to_meeting = selectors.meeting_get_for(actor, request.POST["to_meeting"])
        services.case_decide(actor=actor, case=case, decision=request.POST.get("decision", ""),
                             note=request.POST.get("note", ""), to_meeting=to_meeting,
                             expected_version=_version(request))
    except DOMAIN_ERRORS as exc:
        messages.error(request, first_error(exc))
    else:
        messages.success(request, {"accept": "The case is on the agenda; its packet was assembled.",
                                   "defer": "The case was deferred.", "decline": "The case was declined."}
                         .get(request.POST.get("decision", ""), "Done."))
    if request.POST.get("next") == "meeting":
        return redirect("tumorboards:meeting", pk=case.meeting_id)
    return redirect("tumorboards:case", pk=case.pk)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    try:
        services.packet_refresh(actor=actor, case=case)
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done="The packet was refreshed from the record.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_discussion(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    form = DiscussionForm(request.POST, prefix=f"d{case.pk}")
    if not form.is_valid():
        return _back(request, case, ValidationFailed("The discussion is not valid."))
    d = dict(form.cleaned_data)
    version = d.pop("version")
    try:
        services.case_record_discussion(actor=actor, case=case, data=services.DiscussionData(**d),
                                        expected_version=version)
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done="The board's discussion was recorded.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_recommendation(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    form = RecommendationForm(request.POST, people=people_choices(case.meeting.series), prefix=f"r{case.pk}")
    if not form.is_valid():
        missing = "; ".join(f"{form.fields[k].label or k.replace('_', ' ')}: {v[0]}" for k, v in form.errors.items()
                            if k in form.fields)
        return _back(request, case, ValidationFailed(f"The recommendation is not valid: {missing}"))
    d = form.cleaned_data
    try:
        services.recommendation_add(actor=actor, case=case, data=services.RecommendationData(
            kind=d["kind"], description=d["description"], agreement=d["agreement"],
            dissent_reason=d["dissent_reason"], responsible_id=d["responsible"], due_date=d["due_date"]))
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done="Recommendation recorded.")


# --- after the meeting --------------------------------------------------------------------------------------


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the patient's summary (a draft) or release it to the portal."""
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    try:
        if case.summary_status != SummaryStatus.RELEASED and request.POST.get("summary") is not None:
            case = services.summary_save(actor=actor, case=case, text=request.POST.get("summary", ""),
                                         expected_version=_version(request))
        if request.POST.get("action") == "release":
            services.summary_release(actor=actor, case=case, expected_version=case.version)
            return _back(request, case, done="The summary was released to the patient's portal.")
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done="The summary was saved as a draft.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_addendum(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    try:
        services.addendum_add(actor=actor, case=case, text=request.POST.get("text", ""))
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done="Addendum added.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def case_concordance(request: HttpRequest, pk: int) -> HttpResponse:
    """Derive concordance from the record again, or override one recommendation's value with a reason."""
    actor = staff_actor(request)
    case = selectors.case_get_for(actor, pk, audit_read=False)
    try:
        if request.POST.get("recommendation"):
            rec = Recommendation.objects.filter(case=case, pk=request.POST["recommendation"]).first() \
                if request.POST["recommendation"].isdigit() else None
            if rec is None:
                raise ValidationFailed("Choose a recommendation of this case.")
            services.concordance_override(actor=actor, recommendation=rec, value=request.POST.get("value", ""),
                                          reason=request.POST.get("reason", ""))
            return _back(request, case, done="Concordance set.")
        changed = services.concordance_refresh(actor=actor, case=case)
    except DOMAIN_ERRORS as exc:
        return _back(request, case, exc)
    return _back(request, case, done=f"Concordance derived from the record ({changed} changed).")

"""Pages of tumor boards: the boards home, series, meetings and presenter mode.  Cases (submission, the
packet, conclusions, summary) are in ``case_views``.  Views only translate: selectors read, services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core import clock
from oncoliaison.core.access import require_staff
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, DomainError, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.views import actor_of, form_error_from, login_required_htmx, maps_domain_errors
from oncoliaison.organisations.models import Organization, OrganizationKind

from . import report, selectors, services
from .forms import AttendanceForm, MeetingForm, SeriesForm
from .models import (
    BoardCase,
    CaseStatus,
    ConferenceSeries,
    Meeting,
    MeetingStatus,
    Specialty,
    default_required_specialties,
)

DOMAIN_ERRORS = (ValidationFailed, Conflict, PreconditionFailed)


def staff_actor(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    require_staff(actor)
    if not actor.clinical_organization_ids:
        raise Forbidden("Tumor boards are for the clinical staff of the program and its partner hospitals.")
    return actor


def first_error(exc: DomainError) -> str:
    for errors in exc.field_errors.values():
        if errors:
            return f"{exc.message} {errors[0]}"
    return exc.message


def people_choices(series: ConferenceSeries) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for m in selectors.attendee_candidates(series):
        label = f"{m.user.display_name} — {m.get_role_display()}, {m.organization.name}"
        seen.setdefault(m.user_id, label)
    return list(seen.items())


# --- home and series ----------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def boards_home(request: HttpRequest) -> HttpResponse:
    actor = staff_actor(request)
    series = list(selectors.series_queryset_for(actor).select_related("organization", "coordinator"))
    return render(request, "tumorboards/home.html", {
        "series": series, "upcoming": selectors.upcoming_meetings_for(actor, now=clock.now()),
        "notices": selectors.notices_for(actor, unread_only=True),
        "may_create": any(selectors.may_manage_series(actor, org) for org in actor.admin_organization_ids()),
        "may_report": report.may_read_reports(actor),
    })


@never_cache
@login_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    services.notices_mark_read(actor=actor_of(request))
    return redirect("tumorboards:home")


def _series_form(request: HttpRequest, org_id: int, series: ConferenceSeries | None) -> SeriesForm:
    from oncoliaison.organisations.models import Membership

    coordinators = [(m.user_id, f"{m.user.display_name} — {m.get_role_display()}") for m in
                    Membership.objects.filter(organization_id=org_id, active=True, user__is_active=True,
                                              role__in=services.series.COORDINATOR_ROLES)
                    .select_related("user").order_by("user__last_name", "pk")]
    partners = list(Organization.objects.filter(kind=OrganizationKind.PARTNER_HOSPITAL, active=True)
                    .order_by("name").values_list("pk", "name"))
    initial: dict[str, Any] = {"required_specialties": default_required_specialties()}
    if series is not None:
        initial = {"name": series.name, "disease_site": series.disease_site, "coordinator": series.coordinator_id,
                   "recurrence": series.recurrence, "default_location": series.default_location,
                   "default_video_link": series.default_video_link,
                   "required_specialties": list(series.required_specialties),
                   "submission_deadline_hours": series.submission_deadline_hours,
                   "shared_with": list(series.shared_with.values_list("pk", flat=True)), "policy": series.policy,
                   "active": series.active, "version": series.version}
    return SeriesForm(request.POST or None, initial=initial, coordinators=coordinators, partners=partners)


def _series_data(d: dict[str, Any]) -> services.SeriesData:
    return services.SeriesData(
        name=d["name"], disease_site=d["disease_site"], coordinator_id=d["coordinator"], recurrence=d["recurrence"],
        default_location=d["default_location"], default_video_link=d["default_video_link"],
        required_specialties=list(d["required_specialties"]), submission_deadline_hours=d["submission_deadline_hours"],
        policy=d["policy"], shared_with_ids=list(d["shared_with"]), active=d["active"])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def series_new(request: HttpRequest) -> HttpResponse:
    actor = staff_actor(request)
    orgs = sorted(o for o in actor.admin_organization_ids() if selectors.may_manage_series(actor, o))
    if not orgs:
        raise Forbidden("Only the CLP or the program administrator sets up tumor boards.")
    form = _series_form(request, orgs[0], None)
    if request.method == "POST" and form.is_valid():
        try:
            series = services.series_create(actor=actor, organization_id=orgs[0], data=_series_data(form.cleaned_data))
        except DOMAIN_ERRORS as exc:
            form_error_from(form, exc, {"shared_with_ids": "shared_with", "coordinator_id": "coordinator"})
        else:
            messages.success(request, "The conference series was set up.")
            return redirect("tumorboards:series", pk=series.pk)
    return render(request, "tumorboards/series_form.html", {"form": form, "series": None})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    series = selectors.series_get_for(actor, pk)
    if not selectors.may_manage_series(actor, series.organization_id):
        raise Forbidden("Only the CLP or the program administrator changes tumor boards.")
    form = _series_form(request, series.organization_id, series)
    if request.method == "POST" and form.is_valid():
        try:
            services.series_update(actor=actor, series=series, data=_series_data(form.cleaned_data),
                                   expected_version=form.cleaned_data.get("version"))
        except DOMAIN_ERRORS as exc:
            form_error_from(form, exc, {"shared_with_ids": "shared_with", "coordinator_id": "coordinator"})
        else:
            messages.success(request, "The series was saved.")
            return redirect("tumorboards:series", pk=series.pk)
    return render(request, "tumorboards/series_form.html", {"form": form, "series": series})


@never_cache
@login_required
@require_GET
@maps_domain_errors
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    series = selectors.series_get_for(actor, pk)
    now = clock.now()
    meetings = list(selectors.meetings_of(actor, series).order_by("-starts_at")[:120])
    return render(request, "tumorboards/series.html", {
        "series": series, "upcoming": sorted((m for m in meetings if m.starts_at >= now - dt.timedelta(hours=12)),
                                             key=lambda m: m.starts_at),
        "past": [m for m in meetings if m.starts_at < now - dt.timedelta(hours=12)],
        "coordinates": selectors.may_coordinate(actor, series),
        "manages": selectors.may_manage_series(actor, series.organization_id),
        "meeting_form": MeetingForm(),
        "required_labels": [str(dict(Specialty.choices).get(s, s)) for s in series.required_specialties],
        "partners": list(series.shared_with.order_by("name")),
    })


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    series = selectors.series_get_for(actor, pk)
    form = MeetingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The meeting is not valid: " + "; ".join(
            f"{form.fields[k].label or k}: {v[0]}" for k, v in form.errors.items() if k in form.fields))
        return redirect("tumorboards:series", pk=series.pk)
    d = form.cleaned_data
    starts = d["starts_at"] if timezone.is_aware(d["starts_at"]) else timezone.make_aware(d["starts_at"])
    data = services.MeetingData(starts_at=starts, duration_minutes=d["duration_minutes"],
                                location=d["location"] or None, generate_video=d["video"] == "generate",
                                video_link=d["video_link"] if d["video"] == "paste" else "")
    try:
        if d["repeat"] > 1:
            made = services.meetings_schedule_recurring(actor=actor, series=series, first=data, count=d["repeat"])
        else:
            made = [services.meeting_schedule(actor=actor, series=series, data=data)]
    except DOMAIN_ERRORS as exc:
        messages.error(request, first_error(exc))
        return redirect("tumorboards:series", pk=series.pk)
    messages.success(request, f"{len(made)} meeting{'s' if len(made) > 1 else ''} scheduled.")
    return redirect("tumorboards:meeting", pk=made[0].pk)


# --- a meeting ----------------------------------------------------------------------------------------------


def meeting_context(actor: Actor, meeting: Meeting) -> dict[str, Any]:
    coordinates = selectors.may_coordinate(actor, meeting.series)
    agenda = selectors.agenda_for(actor, meeting)
    people = people_choices(meeting.series) if coordinates else []
    return {
        "meeting": meeting, "series": meeting.series, "agenda": agenda, "coordinates": coordinates,
        "queue": selectors.submission_queue_for(actor, meeting) if coordinates else [],
        "hidden": selectors.hidden_agenda_count(actor, meeting),
        "attendance": selectors.attendance_of(meeting), "video_link": selectors.video_link_for(actor, meeting),
        "invited": selectors.is_invited(actor, meeting),
        "attended": actor.user_id is not None and meeting.attendance.filter(user_id=actor.user_id).exists(),
        "attendance_form": AttendanceForm(people=people) if coordinates else None,
        "invite_choices": people, "specialties": Specialty.choices,
        "later_meetings": list(Meeting.objects.filter(series=meeting.series, status=MeetingStatus.SCHEDULED,
                                                      starts_at__gt=max(meeting.starts_at, clock.now()))
                               .order_by("starts_at")[:6]) if coordinates else [],
        "open": meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS),
    }


@never_cache
@login_required
@require_GET
@maps_domain_errors
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    return render(request, "tumorboards/meeting.html", meeting_context(actor, meeting))


def _back(request: HttpRequest, meeting: Meeting, exc: DomainError | None = None, done: str = "") -> HttpResponse:
    if exc is not None:
        messages.error(request, first_error(exc))
    elif done:
        messages.success(request, done)
    return redirect("tumorboards:meeting", pk=meeting.pk)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Start, close or cancel the meeting."""
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    action = request.POST.get("action", "")
    try:
        if action == "start":
            services.meeting_start(actor=actor, meeting=meeting)
            return redirect("tumorboards:present", pk=meeting.pk)
        if action == "close":
            services.meeting_close(actor=actor, meeting=meeting, minutes=request.POST.get("minutes", ""))
            return _back(request, meeting, done="The meeting is closed: packets frozen, recommendations sent to "
                                                 "the care plans.")
        if action == "cancel":
            services.meeting_cancel(actor=actor, meeting=meeting, reason=request.POST.get("reason", ""))
            return _back(request, meeting, done="The meeting was cancelled; its cases are back in the queue.")
    except DOMAIN_ERRORS as exc:
        return _back(request, meeting, exc)
    return _back(request, meeting, ValidationFailed("Unknown action."))


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    form = AttendanceForm(request.POST, people=people_choices(meeting.series))
    if not form.is_valid():
        return _back(request, meeting, ValidationFailed("Choose the attendee, their specialty and how they attend."))
    d = form.cleaned_data
    try:
        services.attendance_record(actor=actor, meeting=meeting, data=services.AttendanceData(
            user_id=d["user"], specialty=d["specialty"], mode=d["mode"]))
    except DOMAIN_ERRORS as exc:
        return _back(request, meeting, exc)
    return _back(request, meeting, done="Attendance recorded.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_join(request: HttpRequest, pk: int) -> HttpResponse:
    """An attendee joins: their attendance is recorded (by video, or in the room) and their screen follows the
    presenter; the video room opens beside it (a link shown to invited attendees only)."""
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    link = selectors.video_link_for(actor, meeting)
    mode = "in_person" if request.POST.get("mode") == "in_person" else "virtual"
    if mode == "virtual" and not link:
        return _back(request, meeting, ValidationFailed("Only invited attendees join by video."))
    if actor.user_id is None:
        raise Forbidden("Sign in to join.")
    try:
        services.attendance_record(actor=actor, meeting=meeting, data=services.AttendanceData(
            user_id=actor.user_id, specialty=request.POST.get("specialty", ""), mode=mode))
    except DOMAIN_ERRORS as exc:
        return _back(request, meeting, exc)
    if mode == "virtual" and link:
        messages.success(request, "You joined by video: open the video room beside this screen, which follows "
                                  "the presenter.")
    return redirect("tumorboards:present", pk=meeting.pk)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_invite(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    try:
        ids = [int(v) for v in request.POST.getlist("user")]
        n = services.invite(actor=actor, meeting=meeting, user_ids=ids)
    except ValueError:
        return _back(request, meeting, ValidationFailed("Choose whom to invite."))
    except DOMAIN_ERRORS as exc:
        return _back(request, meeting, exc)
    return _back(request, meeting, done=f"{n} invited.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def meeting_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    """Move one case up or down the agenda (the coordinator)."""
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    order = list(meeting.cases.filter(status=CaseStatus.ACCEPTED).order_by("agenda_position", "submitted_at")
                 .values_list("pk", flat=True))
    try:
        case_id = int(request.POST.get("case", ""))
        i = order.index(case_id)
    except ValueError:
        return _back(request, meeting, ValidationFailed("Choose a case of the agenda."))
    j = i - 1 if request.POST.get("move") == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    try:
        services.agenda_order(actor=actor, meeting=meeting, case_ids=order)
    except DOMAIN_ERRORS as exc:
        return _back(request, meeting, exc)
    return _back(request, meeting, done="The agenda was reordered.")


# --- presenter mode -----------------------------------------------------------------------------------------


def _current(actor: Actor, meeting: Meeting) -> BoardCase | None:
    if meeting.current_case_id is None:
        return None
    visible = selectors.case_queryset_for(actor).filter(pk=meeting.current_case_id)
    return visible.select_related("patient", "submitted_by").first()


def present_context(actor: Actor, meeting: Meeting) -> dict[str, Any]:
    from .case_views import case_panel_context

    current = _current(actor, meeting)
    ctx: dict[str, Any] = {"meeting": meeting, "current": current,
                           "hidden_current": meeting.current_case_id is not None and current is None,
                           "coordinates": selectors.may_coordinate(actor, meeting.series)}
    if current is not None:
        ctx.update(case_panel_context(actor, current))
    return ctx


@never_cache
@login_required
@require_GET
@maps_domain_errors
def present(request: HttpRequest, pk: int) -> HttpResponse:
    """Presenter mode: the coordinator moves through the agenda; every attendee's screen follows."""
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    ctx = present_context(actor, meeting)
    ctx["agenda"] = selectors.agenda_for(actor, meeting)
    ctx["video_link"] = selectors.video_link_for(actor, meeting)
    return render(request, "tumorboards/present.html", ctx)


@never_cache
@login_required_htmx
@require_GET
@maps_domain_errors
def present_current(request: HttpRequest, pk: int) -> HttpResponse:
    """What attendees' screens poll: 204 while the presenter has not moved, else the current case's panel."""
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    try:
        seen = int(request.GET.get("step", "-1"))
    except ValueError:
        seen = -1
    if seen == meeting.presenter_step:
        return HttpResponse(status=204)
    ctx = present_context(actor, meeting)
    if ctx["current"] is not None:
        selectors.case_get_for(actor, ctx["current"].pk)  # audited: the case was shown to this person
    return render(request, "tumorboards/present.html#stage", ctx)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def present_goto(request: HttpRequest, pk: int) -> HttpResponse:
    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    raw = request.POST.get("case", "")
    try:
        case = selectors.case_get_for(actor, raw, audit_read=False) if raw else None
        services.meeting_present(actor=actor, meeting=meeting, case=case)
    except DOMAIN_ERRORS as exc:
        messages.error(request, first_error(exc))
    return redirect("tumorboards:present", pk=meeting.pk)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting record (minutes): printable; each case as the board saw and concluded it."""
    from .case_views import case_panel_context

    actor = staff_actor(request)
    meeting = selectors.meeting_get_for(actor, pk)
    cases = [case_panel_context(actor, c) for c in selectors.agenda_for(actor, meeting)]
    return render(request, "tumorboards/minutes.html", {
        "meeting": meeting, "cases": cases, "attendance": selectors.attendance_of(meeting),
        "hidden": selectors.hidden_agenda_count(actor, meeting)})

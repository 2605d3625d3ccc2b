"""Conference series and their meetings: set-up, scheduling (one or recurring), video rooms, invitations,
cancellation."""


from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction

from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.roles import Role
from oncoliaison.organisations.models import Membership, Organization, OrganizationKind

from .. import rules
from ..models import (
    BoardNotice,
    CaseStatus,
    ConferenceSeries,
    DiseaseSite,
    Invitation,
    InvitationRole,
    Meeting,
    MeetingStatus,
    Recurrence,
    Specialty,
    VideoMode,
)
from ..selectors import (
    attendee_candidates,
    may_manage_series,
)
from .common import check_version, log_event, notify, require_coordinator

MAX_MEETINGS_AT_ONCE = 60
COORDINATOR_ROLES = (Role.CLP, Role.NAVIGATOR, Role.PHYSICIAN, Role.NURSE)

# --- series -------------------------------------------------------------------------------------------------


@dataclass
class SeriesData:
    name: str
    disease_site: str
    coordinator_id: int | None
    recurrence: str = Recurrence.WEEKLY
    default_location: str = ""
    default_video_link: str = ""
    required_specialties: list[str] | None = None
    submission_deadline_hours: int = 48
    policy: str = ""
    shared_with_ids: list[int] = field(default_factory=list)
    active: bool = True


def _validate_series(organization_id: int, data: SeriesData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Name the series, e.g. 'Breast tumor board'."]
    if data.disease_site not in DiseaseSite.values:
        errors["disease_site"] = [f"Disease site must be one of: {', '.join(DiseaseSite.values)}."]
    if data.recurrence not in Recurrence.values:
        errors["recurrence"] = [f"Recurrence must be one of: {', '.join(Recurrence.values)}."]
    unknown = [s for s in (data.required_specialties or []) if s not in Specialty.values]
    if unknown:
        errors["required_specialties"] = [f"Unknown specialty: {', '.join(unknown)}."]
    if data.required_specialties is not None and not data.required_specialties:
        errors["required_specialties"] = ["Name at least one required specialty."]
    if not 0 <= data.submission_deadline_hours <= 24 * 14:
        errors["submission_deadline_hours"] = ["The deadline must be between 0 and 336 hours before the meeting."]
    if data.coordinator_id is None or not Membership.objects.filter(
            organization_id=organization_id, active=True, user__is_active=True, user_id=data.coordinator_id,
            role__in=COORDINATOR_ROLES).exists():
        errors["coordinator"] = ["The coordinator must be a clinician of the program (CLP, physician, nurse or "
                                 "navigator)."]
    if data.default_video_link.strip() and not data.default_video_link.strip().startswith("https://"):
        errors["default_video_link"] = ["A video link must start with https://."]
    partners = set(data.shared_with_ids) - {organization_id}
    if partners and Organization.objects.filter(pk__in=partners, kind=OrganizationKind.PARTNER_HOSPITAL,
                                                active=True).count() != len(partners):
        errors["shared_with"] = ["A series can be shared with active partner hospitals only."]
    if errors:
        raise ValidationFailed("The conference series is not valid.", field_errors=errors)


def _apply_series(series: ConferenceSeries, data: SeriesData) -> None:
    series.name = data.name.strip()[:160]
    series.disease_site = data.disease_site
    assert data.coordinator_id is not None
    series.coordinator_id = data.coordinator_id
    series.recurrence = data.recurrence
    series.default_location = data.default_location.strip()[:200]
    series.default_video_link = data.default_video_link.strip()
    if data.required_specialties is not None:
        series.required_specialties = list(dict.fromkeys(data.required_specialties))
    series.submission_deadline_hours = data.submission_deadline_hours
    series.policy = data.policy.strip()
    series.active = data.active


def series_create(*, actor: Actor, organization_id: int, data: SeriesData, channel: str = "web") -> ConferenceSeries:
    if not may_manage_series(actor, organization_id):
        raise Forbidden("Only the CLP or the program administrator sets up tumor boards.")
    _validate_series(organization_id, data)
    series = ConferenceSeries(organization_id=organization_id)
    _apply_series(series, data)
    try:
        with transaction.atomic():
            series.save()
            series.shared_with.set(sorted(set(data.shared_with_ids) - {organization_id}))
            log_event(actor, AuditAction.CREATE, "ConferenceSeries", series.pk, None, series.disease_site, channel)
    except IntegrityError as exc:
        raise Conflict("The program already has a series of this name.") from exc
    return series


def series_update(*, actor: Actor, series: ConferenceSeries, data: SeriesData, expected_version: int | None = None,
                  channel: str = "web") -> ConferenceSeries:
    if not may_manage_series(actor, series.organization_id):
        raise Forbidden("Only the CLP or the program administrator changes tumor boards.")
    check_version(series.version, expected_version)
    _validate_series(series.organization_id, data)
    _apply_series(series, data)
    series.version += 1
    try:
        with transaction.atomic():
            series.save()
            series.shared_with.set(sorted(set(data.shared_with_ids) - {series.organization_id}))
            log_event(actor, AuditAction.UPDATE, "ConferenceSeries", series.pk, None, "", channel)
    except IntegrityError as exc:
        raise Conflict("The program already has a series of this name.") from exc
    return series


# --- meetings -----------------------------------------------------------------------------------------------


@dataclass
class MeetingData:
    starts_at: dt.datetime
    duration_minutes: int = 60
    location: str | None = None
    video_link: str = ""
    generate_video: bool = False


def generated_room_link() -> str:
    """A video room from the configured template (TUMOR_BOARD_VIDEO_TEMPLATE, with ``{room}``) and an
    unguessable room name (128 random bits)."""
    template = settings.TUMOR_BOARD_VIDEO_TEMPLATE
    if "{room}" not in template:
        raise ValidationFailed("No video room template is configured (TUMOR_BOARD_VIDEO_TEMPLATE); paste a link.")
    return template.replace("{room}", "oncoliaison-" + secrets.token_urlsafe(16))


def _video(series: ConferenceSeries, data: MeetingData) -> tuple[str, str]:
    link = data.video_link.strip()
    if data.generate_video:
        return VideoMode.GENERATED, generated_room_link()
    if link:
        if not link.startswith("https://"):
            raise ValidationFailed("The meeting is not valid.",
                                   field_errors={"video_link": ["A video link must start with https://."]})
        return VideoMode.PASTED, link
    if series.default_video_link:
        return VideoMode.PASTED, series.default_video_link
    return VideoMode.NONE, ""


def _validate_meeting(data: MeetingData) -> None:
    errors: dict[str, list[str]] = {}
    if data.starts_at.tzinfo is None:
        errors["starts_at"] = ["Give the start time with its time zone."]
    elif data.starts_at <= clock.now():
        errors["starts_at"] = ["A meeting cannot be scheduled in the past."]
    if not 15 <= data.duration_minutes <= 480:
        errors["duration_minutes"] = ["A meeting lasts between 15 and 480 minutes."]
    if errors:
        raise ValidationFailed("The meeting is not valid.", field_errors=errors)


def meeting_schedule(*, actor: Actor, series: ConferenceSeries, data: MeetingData, channel: str = "web") -> Meeting:
    require_coordinator(actor, series)
    if not series.active:
        raise Conflict("This series is no longer active.")
    _validate_meeting(data)
    mode, link = _video(series, data)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            series=series, starts_at=data.starts_at, duration_minutes=data.duration_minutes,
            location=(series.default_location if data.location is None else data.location.strip())[:200],
            video_mode=mode, video_link=link, created_by_id=actor.user_id)
        Invitation.objects.get_or_create(meeting=meeting, user_id=series.coordinator_id)
        log_event(actor, AuditAction.CREATE, "Appointment", meeting.pk, None, f"series {series.pk}", channel)
    return meeting


def meetings_schedule_recurring(*, actor: Actor, series: ConferenceSeries, first: MeetingData, count: int,
                                channel: str = "web") -> list[Meeting]:
    """``count`` meetings from ``first`` by the series' recurrence, each with its own generated room when asked."""
    if not 1 <= count <= MAX_MEETINGS_AT_ONCE:
        raise ValidationFailed(f"Schedule between 1 and {MAX_MEETINGS_AT_ONCE} meetings at a time.")
    _validate_meeting(first)
    with transaction.atomic():
        return [meeting_schedule(actor=actor, series=series, channel=channel, data=MeetingData(
            starts_at=start, duration_minutes=first.duration_minutes, location=first.location,
            video_link=first.video_link, generate_video=first.generate_video))
            for start in rules.occurrences(first.starts_at, series.recurrence, count)]


def meeting_cancel(*, actor: Actor, meeting: Meeting, reason: str, channel: str = "web") -> Meeting:
    require_coordinator(actor, meeting.series)
    error = rules.meeting_transition_error(meeting.status, MeetingStatus.CANCELLED)
    if error:
        raise Conflict(error)
    if not reason.strip():
        raise ValidationFailed("Say why the meeting is cancelled.", field_errors={"reason": ["Give a reason."]})
    with transaction.atomic():
        meeting.status = MeetingStatus.CANCELLED
        meeting.cancel_reason = reason.strip()[:300]
        meeting.version += 1
        meeting.save()
        # Cases on its agenda go back to the coordinator's queue, to be moved to another meeting.
        meeting.cases.filter(status__in=[CaseStatus.ACCEPTED, CaseStatus.SUBMITTED]).update(
            status=CaseStatus.DEFERRED, decision_note="The meeting was cancelled.", agenda_position=None)
        log_event(actor, AuditAction.UPDATE, "Appointment", meeting.pk, None, "cancelled", channel)
    return meeting


def invite(*, actor: Actor, meeting: Meeting, user_ids: Sequence[int], role: str = InvitationRole.ATTENDEE,
           channel: str = "web") -> int:
    require_coordinator(actor, meeting.series)
    allowed = set(attendee_candidates(meeting.series).filter(user_id__in=user_ids).values_list("user_id", flat=True))
    unknown = sorted(set(user_ids) - allowed)
    if unknown:
        raise ValidationFailed("Only clinicians of the series' organisations can be invited.",
                               field_errors={"user_ids": [f"Not a member: {', '.join(map(str, unknown))}."]})
    with transaction.atomic():
        existing = set(meeting.invitations.values_list("user_id", flat=True))
        new = [uid for uid in dict.fromkeys(user_ids) if uid not in existing]
        Invitation.objects.bulk_create([Invitation(meeting=meeting, user_id=uid, role=role) for uid in new])
        notify(new, BoardNotice.Kind.INVITED, meeting)
        if new:
            log_event(actor, AuditAction.UPDATE, "Appointment", meeting.pk, None, f"{len(new)} invited", channel)
    return len(new)

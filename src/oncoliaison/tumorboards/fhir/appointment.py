"""Appointment: a tumor-board meeting (read, search).  Not patient-linked: a meeting holds many patients and
its Appointment names none of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import IntegerField, Q, QuerySet, Value

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, ResourceMapper, SearchParam, register

from .. import selectors
from ..models import Attendance, Invitation, InvitationRole, Meeting, MeetingStatus
from .common import CLINICAL_ONCOLOGY, CS_BOARD_SERVICE, CS_PARTICIPANT_TYPE, EXT_VIDEO_LINK, SP, practitioner


def _practitioner_q(name: str, value: str) -> Q:
    """Meetings a practitioner coordinates, is invited to or attended."""
    pk = params.reference_id(name, value, "Practitioner")
    return (Q(series__coordinator_id=pk)
            | Q(pk__in=Invitation.objects.filter(user_id=pk).values("meeting_id"))
            | Q(pk__in=Attendance.objects.filter(user_id=pk).values("meeting_id")))


def _participants(m: Meeting) -> list[dict[str, Any]]:
    """The coordinator (chair), everyone invited (presenters required, attendees optional) and everyone who
    attended; status ``accepted`` once attendance is recorded, else ``needs-action``."""
    attended = {a.user_id: a for a in m.attendance.all()}
    people: dict[int, dict[str, Any]] = {}

    def add(user: Any, role_code: str, role_display: str, required: str) -> None:
        entry = people.setdefault(user.pk, {"type": [], "actor": practitioner(user)})
        entry["type"].append({"coding": [codes.coding(CS_PARTICIPANT_TYPE, role_code, role_display)]})
        entry.setdefault("required", required)

    add(m.series.coordinator, "PPRF", "primary performer", "required")
    for inv in m.invitations.all():
        if inv.role == InvitationRole.PRESENTER:
            add(inv.user, "SPRF", "secondary performer", "required")
        else:
            add(inv.user, "PART", "Participation", "optional")
    for a in attended.values():
        if a.user_id not in people:
            add(a.user, "PART", "Participation", "information-only")
    out = []
    for user_id, entry in people.items():
        attendance = attended.get(user_id)
        if attendance is not None:
            entry["type"].append({"text": f"{attendance.get_specialty_display()}, {attendance.get_mode_display()}"})
        entry["status"] = "accepted" if attendance is not None else "needs-action"
        out.append(entry)
    where = ", ".join(x for x in (m.location or m.series.default_location, m.series.organization.name) if x)
    out.append({"type": [{"coding": [codes.coding(CS_PARTICIPANT_TYPE, "LOC", "location")]}],
                "actor": {"display": where}, "required": "information-only", "status": "accepted"})
    return out


@register
class AppointmentMapper(ResourceMapper):
    resource_type = "Appointment"
    model = Meeting
    interactions = (READ, SEARCH)
    audit_category = selectors.CATEGORY
    documentation = (
        "Tumor-board meetings (multidisciplinary case conferences) of the conference series the caller's "
        "organisation runs or takes part in: start and end, status, participants (Practitioner, with the "
        "specialty and mode of those who attended) and place. The video link is in the extension "
        f"{EXT_VIDEO_LINK}, only for a person invited to the meeting. No patient is named."
    )
    search_params = (
        SearchParam("date", "date", "When the meeting starts; prefixes eq, ne, lt, gt, le, ge.",
                    params.datetime_filter("starts_at"), SP + "clinical-date"),
        SearchParam("status", "token", "booked, arrived (in progress), fulfilled (held) or cancelled.",
                    params.code_filter("status", "http://hl7.org/fhir/appointmentstatus", MeetingStatus.values),
                    SP + "Appointment-status"),
        SearchParam("practitioner", "reference", "A practitioner who coordinates, is invited to or attended it.",
                    _practitioner_q, SP + "Appointment-practitioner"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Meeting]:
        # The viewer's id travels with each row: the video link is shown to invited people only.
        return selectors.meeting_queryset_for(actor).annotate(
            viewer_user_id=Value(actor.user_id, output_field=IntegerField(null=True)))

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("series", "series__organization", "series__coordinator").prefetch_related(
            "invitations__user", "attendance__user")

    def to_fhir(self, m: Meeting) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Appointment", "id": str(m.pk), "meta": codes.meta(m.version,
                                                                                                   m.updated_at)}
        link = selectors.video_link_for_user(getattr(m, "viewer_user_id", None), m)
        if link:
            out["extension"] = [{"url": EXT_VIDEO_LINK, "valueUrl": link}]
        out["status"] = m.status
        if m.status == MeetingStatus.CANCELLED and m.cancel_reason:
            out["cancelationReason"] = {"text": m.cancel_reason}
        out["serviceType"] = [{"coding": [codes.coding(CS_BOARD_SERVICE, "tumor-board",
                                                       "Multidisciplinary tumor board")],
                               "text": f"Tumor board: {m.series.get_disease_site_display()}"}]
        out["specialty"] = [{"coding": [CLINICAL_ONCOLOGY]}]
        out["description"] = m.series.name
        out["start"] = codes.instant(m.starts_at)
        out["end"] = codes.instant(m.starts_at + dt.timedelta(minutes=m.duration_minutes))
        out["minutesDuration"] = m.duration_minutes
        out["created"] = codes.instant(m.created_at)
        if m.minutes:
            out["comment"] = m.minutes
        out["participant"] = _participants(m)
        return out

"""JSON shapes of tumor boards: series, meetings, cases (with their packet), attendance, recommendations and
the CoC standard 2.5 report."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema

from oncoliaison.core.schemas import Bool, Count, Date, DateTime, Id, Int

from .models import (
    Agreement,
    AttendanceMode,
    CaseUrgency,
    DiseaseSite,
    RecommendationKind,
    Recurrence,
    Specialty,
)


class SeriesIn(Schema):
    name: str = Field(..., min_length=1, max_length=160, pattern=r"\S", examples=["Breast tumor board"])
    disease_site: DiseaseSite
    coordinator_id: Id = Field(..., description="The user id of the coordinator (a clinician of the program).")
    organization: str | None = Field(None, description="Slug of the program; default: yours.")
    recurrence: Recurrence = Recurrence.WEEKLY
    default_location: str = Field("", max_length=200)
    default_video_link: str = Field("", max_length=500, pattern=r"^(https://\S+)?$")
    required_specialties: list[Specialty] | None = Field(
        None, min_length=1,
        description="Default: diagnostic radiology, pathology, surgery, medical and radiation oncology.")
    submission_deadline_hours: Count = Field(48, le=336)
    policy: str = Field("", max_length=5000)
    shared_with: list[str] = Field(default_factory=list, description="Slugs of partner hospitals.")


class SeriesOut(Schema):
    id: Int
    name: str
    disease_site: str
    organization: str
    coordinator_id: Int
    recurrence: str
    default_location: str
    required_specialties: list[str]
    submission_deadline_hours: Int
    policy: str
    shared_with: list[str]
    active: bool
    version: Int


class MeetingIn(Schema):
    starts_at: DateTime = Field(..., description="With its time zone; must be in the future.")
    duration_minutes: Int = Field(60, ge=15, le=480)
    location: str | None = Field(None, max_length=200, description="Default: the series' room.")
    video_link: str = Field("", max_length=500, pattern=r"^(https://\S+)?$",
                            description="A pasted https:// link (any provider).")
    generate_video: Bool = Field(False, description="Generate a room with an unguessable name instead.")
    repeat: Int = Field(1, ge=1, le=60, description="Schedule this many meetings by the series' recurrence.")


class AgendaItemOut(Schema):
    id: Int
    patient_id: Int
    question: str
    prospective: bool
    urgency: str
    status: str
    agenda_position: Int | None


class MeetingOut(Schema):
    id: Int
    series_id: Int
    starts_at: DateTime
    duration_minutes: Int
    location: str
    status: str
    video_link: str = Field(..., description="Shown to invited attendees only ('' otherwise).")
    current_case_id: Int | None
    presenter_step: Int
    agenda: list[AgendaItemOut]
    hidden_cases: Int = Field(..., description="Cases on the agenda of patients you may not see.")
    version: Int


class CaseAttachmentIn(Schema):
    kind: Literal["imaging", "pathology", "laboratory", "genomics", "operative", "other"]
    title: str = Field(..., min_length=1, max_length=200, pattern=r"\S")
    date: Date | None = None
    reference: str = Field("", max_length=300, description="Where it is, e.g. the PACS accession number.")


class CaseIn(Schema):
    patient_id: Id
    question: str = Field(..., min_length=1, max_length=5000, pattern=r"\S")
    prospective: Bool = Field(..., description="Before or during first-course treatment, or management open.")
    urgency: CaseUrgency = CaseUrgency.ROUTINE
    requested_attendee_ids: list[Id] = Field(default_factory=list)
    attachments: list[CaseAttachmentIn] = Field(default_factory=list)


class RecommendationIn(Schema):
    kind: RecommendationKind
    description: str = Field(..., min_length=1, max_length=500, pattern=r"\S")
    agreement: Agreement = Agreement.CONSENSUS
    dissent_reason: str = Field("", max_length=500)
    responsible_id: Id | None = None
    due_date: Date | None = None


class RecommendationOut(Schema):
    id: Int
    case_id: Int
    kind: str
    description: str
    agreement: str
    dissent_reason: str
    responsible_id: Int | None
    due_date: Date | None
    task_id: Int | None
    concordance: str
    concordance_manual: bool
    concordance_reason: str
    concordance_evidence: str


class AddendumOut(Schema):
    author_id: Int
    written_at: DateTime
    text: str


class CaseOut(Schema):
    id: Int
    meeting_id: Int
    patient_id: Int
    organization: str
    submitted_by_id: Int | None = Field(..., description="Empty when an API client submitted the case.")
    submitted_client: str
    submitted_at: DateTime
    question: str
    prospective: bool
    urgency: str
    status: str
    decision_note: str
    agenda_position: Int | None
    attachments: list[dict[str, str]]
    packet: dict[str, Any] = Field(..., description="What the board sees; frozen when the meeting closed.")
    packet_assembled_at: DateTime | None
    packet_frozen_at: DateTime | None
    stage_discussed: bool
    stage_agreed: str
    stage_edition: str
    guideline_body: str
    guideline_name: str
    guideline_version: str
    trial_discussed: bool
    trials: str
    discussion: str
    summary: str
    summary_status: str
    recommendations: list[RecommendationOut]
    addenda: list[AddendumOut]
    version: Int


class DecisionIn(Schema):
    decision: Literal["accept", "defer", "decline"]
    note: str = Field("", max_length=300)
    to_meeting_id: Id | None = None
    version: Int | None = None


class DiscussionIn(Schema):
    stage_discussed: Bool
    stage_agreed: str = Field("", max_length=60)
    stage_edition: str = Field("", max_length=20)
    guideline_body: str = Field("", max_length=80)
    guideline_name: str = Field("", max_length=160)
    guideline_version: str = Field("", max_length=40)
    trial_discussed: Bool = False
    trials: str = Field("", max_length=300)
    discussion: str = Field("", max_length=20000)
    version: Int | None = None


class AttendanceIn(Schema):
    user_id: Id
    specialty: Specialty
    mode: AttendanceMode
    organization: str | None = Field(None, description="Slug, when the person belongs to several.")


class AttendanceOut(Schema):
    id: Int
    meeting_id: Int
    user_id: Int
    organization: str
    specialty: str
    mode: str
    joined_at: DateTime


class AgendaOrderIn(Schema):
    case_ids: list[Id]


class PresentIn(Schema):
    case_id: Id | None = None


class CloseIn(Schema):
    minutes: str = Field("", max_length=20000)


class SummaryIn(Schema):
    summary: str = Field(..., min_length=1, max_length=20000, pattern=r"\S")
    version: Int | None = None


class VersionIn(Schema):
    version: Int | None = None


class AddendumIn(Schema):
    text: str = Field(..., min_length=1, max_length=20000, pattern=r"\S")


class ShareOut(Schema):
    count: Int
    of: Int
    percent: float | None


class ConferenceReportOut(Schema):
    series_id: Int
    series: str
    year: Int
    required_specialties: list[str]
    scheduled: Int
    held: Int
    cancelled: Int
    cases_presented: Int
    prospective: ShareOut
    stage_discussed: ShareOut
    guideline_discussed: ShareOut
    trial_discussed: ShareOut
    specialty_attendance: dict[str, ShareOut]
    all_required_present: ShareOut
    partner_conferences: ShareOut
    partner_cases: ShareOut

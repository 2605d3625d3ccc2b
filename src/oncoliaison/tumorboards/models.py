"""Tumor boards (multidisciplinary case conferences).

A ``ConferenceSeries`` is a standing board of one program for one disease site (coordinator, recurrence,
room, video link, required specialties, submission deadline), which partner hospitals may share.  Each
``Meeting`` of a series has an agenda of ``BoardCase`` rows: a patient, the clinical question, whether the
case is prospective, its packet (assembled from the record, frozen when the meeting closes), and what the
board concluded — stage, guideline, trials, ``Recommendation`` rows that become care-plan tasks.
``Attendance`` records who took part, with which specialty, in person or by video.  The CoC standard 2.5
figures (docs/tumor-boards.md) are computed from these rows.

FHIR shapes: Meeting → Appointment; Recommendation → ServiceRequest (basedOn the case's summary); the board's
summary of a case → Composition.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from oncoliaison.core.records import EditedRecord


class DiseaseSite(models.TextChoices):
    BREAST = "breast", "Breast"
    THORACIC = "thoracic", "Thoracic"
    GI = "gi", "Gastrointestinal"
    GU = "gu", "Genitourinary"
    GYN = "gyn", "Gynecologic"
    NEURO = "neuro", "Neuro-oncology"
    HEAD_NECK = "head_neck", "Head and neck"
    HEME = "heme", "Hematologic"
    SKIN = "skin", "Skin and melanoma"
    GENERAL = "general", "General (all sites)"


class Recurrence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every other week"
    MONTHLY = "monthly", "Monthly"


class Specialty(models.TextChoices):
    """The disciplines of a multidisciplinary case conference (CoC standard 2.5 names the first five as the
    required attendance of each conference, unless the program's policy says otherwise)."""

    DIAGNOSTIC_RADIOLOGY = "diagnostic_radiology", "Diagnostic radiology"
    PATHOLOGY = "pathology", "Pathology"
    SURGERY = "surgery", "Surgery"
    MEDICAL_ONCOLOGY = "medical_oncology", "Medical oncology"
    RADIATION_ONCOLOGY = "radiation_oncology", "Radiation oncology"
    NURSING = "nursing", "Oncology nursing"
    NAVIGATION = "navigation", "Patient navigation"
    GENETICS = "genetics", "Genetics"
    PALLIATIVE_CARE = "palliative_care", "Palliative care"
    RESEARCH = "research", "Clinical research"
    SOCIAL_WORK = "social_work", "Social work"
    PHARMACY = "pharmacy", "Oncology pharmacy"
    OTHER = "other", "Other"


DEFAULT_REQUIRED_SPECIALTIES = (
    Specialty.DIAGNOSTIC_RADIOLOGY,
    Specialty.PATHOLOGY,
    Specialty.SURGERY,
    Specialty.MEDICAL_ONCOLOGY,
    Specialty.RADIATION_ONCOLOGY,
)


def default_required_specialties() -> list[str]:
    return [str(s) for s in DEFAULT_REQUIRED_SPECIALTIES]


class ConferenceSeries(models.Model):
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT,
                                     related_name="conference_series")
    name = models.CharField(max_length=160)
    disease_site = models.CharField(max_length=16, choices=DiseaseSite.choices)
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recurrence = models.CharField(max_length=10, choices=Recurrence.choices, default=Recurrence.WEEKLY)
    default_location = models.CharField(max_length=200, blank=True)
    default_video_link = models.URLField(max_length=500, blank=True)
    required_specialties = models.JSONField(default=default_required_specialties)
    submission_deadline_hours = models.PositiveIntegerField(
        default=48, help_text="Cases must be submitted at least this many hours before the meeting starts.")
    policy = models.TextField(blank=True, help_text="The program's conference policy (CoC standard 2.5).")
    shared_with = models.ManyToManyField("organisations.Organization", blank=True, related_name="shared_series",
                                         help_text="Partner hospitals whose clinicians may submit and attend.")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "conference series"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="conference_series_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MeetingStatus(models.TextChoices):
    """FHIR Appointment.status of the meeting."""

    SCHEDULED = "booked", "Scheduled"
    IN_PROGRESS = "arrived", "In progress"
    HELD = "fulfilled", "Held"
    CANCELLED = "cancelled", "Cancelled"


class VideoMode(models.TextChoices):
    NONE = "none", "No video"
    PASTED = "pasted", "Link pasted"
    GENERATED = "generated", "Room generated"


class Meeting(EditedRecord):
    series = models.ForeignKey(ConferenceSeries, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    location = models.CharField(max_length=200, blank=True)
    video_mode = models.CharField(max_length=10, choices=VideoMode.choices, default=VideoMode.NONE)
    video_link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # Presenter mode: the case on every attendee's screen, and a counter that moves each time it changes.
    current_case = models.ForeignKey("BoardCase", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    presenter_step = models.PositiveIntegerField(default=0)
    minutes = models.TextField(blank=True, help_text="General minutes of the meeting (no case details).")
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["series", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="fulfilled") | Q(held_at__isnull=False),
                                   name="meeting_held_has_time"),
            models.CheckConstraint(condition=Q(video_mode="none") | ~Q(video_link=""),
                                   name="meeting_video_has_link"),
        ]

    def __str__(self) -> str:
        return f"{self.series} — {self.starts_at:%Y-%m-%d %H:%M}"


class InvitationRole(models.TextChoices):
    ATTENDEE = "attendee", "Attendee"
    PRESENTER = "presenter", "Presenter"


class Invitation(models.Model):
    """Who is invited to a meeting: the video link is shown to them (and the coordinator) only."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_invitations")
    role = models.CharField(max_length=10, choices=InvitationRole.choices, default=InvitationRole.ATTENDEE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="invitation_unique_person")]


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "By video"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_attendance")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="+")
    specialty = models.CharField(max_length=24, choices=Specialty.choices)
    mode = models.CharField(max_length=10, choices=AttendanceMode.choices)
    joined_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendance_unique_person")]


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "On the agenda"
    DEFERRED = "deferred", "Deferred"
    DECLINED = "declined", "Declined"
    DISCUSSED = "discussed", "Discussed"


class CaseUrgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon (before next treatment)"
    URGENT = "urgent", "Urgent"


class SummaryStatus(models.TextChoices):
    NONE = "none", "Not written"
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released to the patient"


class BoardCase(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="board_cases")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="+",
                                     help_text="The submitter's organisation.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", help_text="Empty when a system (API client) submitted it.")
    submitted_client = models.CharField(max_length=64, blank=True, help_text="The API client that submitted it.")
    submitted_at = models.DateTimeField()
    question = models.TextField()
    prospective = models.BooleanField(
        help_text="Discussed before or during first-course treatment, or with management still open.")
    urgency = models.CharField(max_length=8, choices=CaseUrgency.choices, default=CaseUrgency.ROUTINE)
    requested_attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    presenter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    attachments = models.JSONField(default=list, help_text="Metadata only: kind, title, date, reference.")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    decision_note = models.CharField(max_length=300, blank=True)
    agenda_position = models.PositiveIntegerField(null=True, blank=True)
    # The packet: assembled from the record when accepted, refreshed until the meeting, frozen when it closes.
    packet = models.JSONField(default=dict)
    packet_assembled_at = models.DateTimeField(null=True, blank=True)
    packet_frozen_at = models.DateTimeField(null=True, blank=True)
    # What the board concluded.
    stage_discussed = models.BooleanField(default=False)
    stage_agreed = models.CharField(max_length=60, blank=True, help_text="e.g. cT2 cN1 cM0, stage IIB")
    stage_edition = models.CharField(max_length=20, blank=True, help_text="e.g. AJCC 8th edition")
    guideline_body = models.CharField(max_length=80, blank=True, help_text="e.g. NCCN, ASCO, ESMO")
    guideline_name = models.CharField(max_length=160, blank=True)
    guideline_version = models.CharField(max_length=40, blank=True)
    trial_discussed = models.BooleanField(default=False)
    trials = models.CharField(max_length=300, blank=True, help_text="Trial identifiers, e.g. NCT numbers.")
    discussion = models.TextField(blank=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    # The plain-language summary the navigator reviews and releases to the patient portal.
    summary = models.TextField(blank=True)
    summary_status = models.CharField(max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.NONE)
    summary_released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    summary_released_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["meeting", "agenda_position", "submitted_at", "id"]
        indexes = [models.Index(fields=["patient", "status"]), models.Index(fields=["meeting", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(summary_status="released") | Q(summary_released_at__isnull=False),
                                   name="board_case_released_has_time"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"


class Addendum(models.Model):
    """A correction or addition to a discussed case after its packet was frozen: the frozen record never
    changes; addenda are shown after it with their author and time."""

    case = models.ForeignKey(BoardCase, on_delete=models.CASCADE, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    text = models.TextField()

    class Meta:
        ordering = ["written_at", "id"]


class RecommendationKind(models.TextChoices):
    SURGERY = "surgery", "Surgery"
    SYSTEMIC = "systemic", "Systemic therapy"
    RADIATION = "radiation", "Radiation therapy"
    WORKUP = "workup", "Further work-up"
    SURVEILLANCE = "surveillance", "Surveillance"
    SUPPORTIVE = "supportive", "Supportive / palliative care"
    GENETICS = "genetics", "Genetics referral"
    TRIAL = "trial", "Clinical trial referral"
    SECOND_OPINION = "second_opinion", "Second opinion"


class Agreement(models.TextChoices):
    CONSENSUS = "consensus", "Consensus"
    DISSENT = "dissent", "Dissent recorded"


class Concordance(models.TextChoices):
    PENDING = "pending", "Not yet known"
    FOLLOWED = "followed", "Followed"
    NOT_FOLLOWED = "not_followed", "Not followed"
    NOT_APPLICABLE = "not_applicable", "Cannot be told from the record"


class Recommendation(models.Model):
    case = models.ForeignKey(BoardCase, on_delete=models.CASCADE, related_name="recommendations")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="board_recommendations")
    kind = models.CharField(max_length=16, choices=RecommendationKind.choices)
    description = models.CharField(max_length=500)
    agreement = models.CharField(max_length=10, choices=Agreement.choices, default=Agreement.CONSENSUS)
    dissent_reason = models.CharField(max_length=500, blank=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="board_recommendations")
    due_date = models.DateField(null=True, blank=True)
    task = models.OneToOneField("careplans.Task", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="board_recommendation")
    concordance = models.CharField(max_length=16, choices=Concordance.choices, default=Concordance.PENDING)
    concordance_manual = models.BooleanField(default=False)
    concordance_reason = models.CharField(max_length=300, blank=True)
    concordance_evidence = models.CharField(max_length=300, blank=True)
    concordance_checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(agreement="dissent") | ~Q(dissent_reason=""),
                                   name="recommendation_dissent_has_reason"),
            models.CheckConstraint(condition=~Q(concordance_manual=True) | ~Q(concordance_reason=""),
                                   name="recommendation_override_has_reason"),
        ]


class BoardNotice(models.Model):
    """An in-app notice to a person about a meeting or case (the e-mail that may follow names no patient)."""

    class Kind(models.TextChoices):
        CASE_ACCEPTED = "case_accepted", "Your case is on the agenda"
        CASE_DEFERRED = "case_deferred", "Your case was deferred"
        CASE_DECLINED = "case_declined", "Your case was declined"
        INVITED = "invited", "You are invited to a meeting"
        PRESENTING = "presenting", "You present a case"
        RECOMMENDATION = "recommendation", "A board recommendation is yours"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(BoardCase, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

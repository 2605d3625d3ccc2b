"""Forms of the tumor-board pages (shape only; the services validate meaning)."""

from __future__ import annotations

from typing import Any

from django import forms

from . import models
from .services import ATTACHMENT_KINDS

Choices = list[tuple[Any, str]]


class SeriesForm(forms.Form):
    name = forms.CharField(max_length=160)
    disease_site = forms.ChoiceField(choices=models.DiseaseSite.choices)
    coordinator = forms.TypedChoiceField(coerce=int, choices=())
    recurrence = forms.ChoiceField(choices=models.Recurrence.choices, initial=models.Recurrence.WEEKLY)
    default_location = forms.CharField(max_length=200, required=False, label="Room")
    default_video_link = forms.URLField(max_length=500, required=False, assume_scheme="https",
                                        label="Standing video link", help_text="Optional: used when a meeting has none.")
    required_specialties = forms.MultipleChoiceField(
        choices=models.Specialty.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Who must attend each conference (CoC standard 2.5); the report counts each one.")
    submission_deadline_hours = forms.IntegerField(min_value=0, max_value=336, initial=48,
                                                   label="Submission deadline (hours before the meeting)")
    shared_with = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False,
                                                 widget=forms.CheckboxSelectMultiple,
                                                 label="Shared with partner hospitals")
    policy = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Conference policy")
    active = forms.BooleanField(required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, coordinators: Choices, partners: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = coordinators  # type: ignore[attr-defined]  # a ChoiceField
        self.fields["shared_with"].choices = partners  # type: ignore[attr-defined]  # a ChoiceField


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Starts at")
    duration_minutes = forms.IntegerField(min_value=15, max_value=480, initial=60, label="Duration (minutes)")
    location = forms.CharField(max_length=200, required=False, label="Room",
                               help_text="Empty: the series' room.")
    video = forms.ChoiceField(choices=[("series", "The series' standing link (if any)"),
                                       ("generate", "Generate a private video room"),
                                       ("paste", "Paste a link")], initial="generate",
                              widget=forms.RadioSelect, label="Video")
    video_link = forms.URLField(max_length=500, required=False, assume_scheme="https", label="Video link to paste")
    repeat = forms.IntegerField(min_value=1, max_value=60, initial=1,
                                help_text="Schedule this many meetings by the series' recurrence.")


class SubmitForm(forms.Form):
    meeting = forms.TypedChoiceField(coerce=int, choices=(), label="Meeting")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Clinical question for the board")
    prospective = forms.TypedChoiceField(
        choices=[("", "Choose…"), ("true", "Prospective"), ("false", "Retrospective")],
        coerce=lambda v: v == "true", empty_value=None,
        help_text="Prospective: before or during first-course treatment, or management still open.")
    urgency = forms.ChoiceField(choices=models.CaseUrgency.choices, initial=models.CaseUrgency.ROUTINE)
    requested_attendees = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False,
                                                         widget=forms.CheckboxSelectMultiple,
                                                         label="Ask these colleagues to attend")

    def __init__(self, *args: Any, meetings: Choices, attendees: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = meetings  # type: ignore[attr-defined]  # a ChoiceField
        self.fields["requested_attendees"].choices = attendees  # type: ignore[attr-defined]  # a ChoiceField
        for i in range(1, 4):
            self.fields[f"att{i}_kind"] = forms.ChoiceField(
                choices=[("", "—"), *[(k, k.title()) for k in ATTACHMENT_KINDS]], required=False,
                label=f"Attachment {i}: kind")
            self.fields[f"att{i}_title"] = forms.CharField(max_length=200, required=False, label="Title")
            self.fields[f"att{i}_date"] = forms.DateField(required=False, label="Date",
                                                          widget=forms.DateInput(attrs={"type": "date"}))
            self.fields[f"att{i}_reference"] = forms.CharField(max_length=300, required=False, label="Where it is")

    def attachments(self) -> list[dict[str, str]]:
        d = self.cleaned_data
        return [{"kind": d[f"att{i}_kind"], "title": d[f"att{i}_title"],
                 "date": d[f"att{i}_date"].isoformat() if d[f"att{i}_date"] else "",
                 "reference": d[f"att{i}_reference"]}
                for i in range(1, 4) if d.get(f"att{i}_kind") or d.get(f"att{i}_title")]


class AttendanceForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, choices=(), label="Attendee")
    specialty = forms.ChoiceField(choices=models.Specialty.choices)
    mode = forms.ChoiceField(choices=models.AttendanceMode.choices, initial=models.AttendanceMode.IN_PERSON)

    def __init__(self, *args: Any, people: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = people  # type: ignore[attr-defined]  # a ChoiceField


class DiscussionForm(forms.Form):
    stage_discussed = forms.BooleanField(required=False, label="Stage discussed")
    stage_agreed = forms.CharField(max_length=60, required=False, label="Stage agreed by the board",
                                   help_text="e.g. cT2 cN1 cM0, stage IIB")
    stage_edition = forms.CharField(max_length=20, required=False, label="Staging edition", initial="AJCC 8th")
    guideline_body = forms.CharField(max_length=80, required=False, label="Guideline body", help_text="e.g. NCCN")
    guideline_name = forms.CharField(max_length=160, required=False, label="Guideline")
    guideline_version = forms.CharField(max_length=40, required=False, label="Version")
    trial_discussed = forms.BooleanField(required=False, label="Clinical trial discussed")
    trials = forms.CharField(max_length=300, required=False, label="Trials (e.g. NCT numbers)")
    discussion = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RecommendationForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose…"), *models.RecommendationKind.choices])
    description = forms.CharField(max_length=500)
    agreement = forms.ChoiceField(choices=models.Agreement.choices, initial=models.Agreement.CONSENSUS, widget=forms.RadioSelect)
    dissent_reason = forms.CharField(max_length=500, required=False, label="Dissent: the reason")
    responsible = forms.TypedChoiceField(coerce=int, choices=(), required=False, empty_value=None,
                                         label="Responsible clinician")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, people: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *people]  # type: ignore[attr-defined]  # a ChoiceField

"""Forms of the secure-message pages.  Attachments: only each file's name, type and size are kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .services import BODY_MAX, SUBJECT_MAX, AttachmentData


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class _MessageFields(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For an emergency call 911. Messages are read during clinic hours."),
    )
    attachments = MultipleFileField(
        label=_("Attach files (optional)"), required=False,
        help_text=_("PDF, Word, text or photos, up to 50 MB each. The team sees each file's name, type and size; "
                    "bring or send the document itself as your clinic asks."),
    )

    def attachment_data(self) -> list[AttachmentData]:
        return [
            AttachmentData(name=f.name or "", content_type=(f.content_type or "").split(";")[0].strip().lower(),
                           size=f.size or 0)
            for f in self.cleaned_data.get("attachments") or []
        ]


class ReplyForm(_MessageFields):
    pass


class ThreadStartForm(_MessageFields):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    field_order = ["subject", "body", "attachments"]


class StaffThreadStartForm(ThreadStartForm):
    kind = forms.ChoiceField(label=_("Who is the message for?"), widget=forms.RadioSelect)
    participants = forms.TypedMultipleChoiceField(
        label=_("Colleagues (for a staff discussion)"), coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    field_order = ["kind", "participants", "subject", "body", "attachments"]

    def __init__(self, *args: Any, colleagues: list[tuple[int, str]], patient_has_account: bool,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]  # a ChoiceField, typed as Field
            ("patient", _("The patient (and their care team)")),
            ("staff", _("Colleagues only — the patient does not see it")),
        ]
        self.fields["kind"].initial = "patient" if patient_has_account else "staff"
        self.fields["participants"].choices = colleagues  # type: ignore[attr-defined]  # a ChoiceField, typed as Field

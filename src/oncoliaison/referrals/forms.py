"""Forms of the referral pages.  They check the shape of the input; the services check the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from oncoliaison.patients.forms import LANGUAGES
from oncoliaison.patients.models import AdministrativeGender

from .models import DeclineReason, ReferralSource, RequestedService, Urgency
from .selfreferral import SelfReferralData
from .services import AttachmentData, ReferralData

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
OFF = {"autocomplete": "off"}


class SelfReferralForm(forms.Form):
    """The public page's form, in the person's language (labels are lazy: the page language decides)."""

    given_name = forms.CharField(label=_("First name"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    family_name = forms.CharField(label=_("Last name"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    birth_date = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(
        attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"))
    phone = forms.CharField(label=_("Telephone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
                            help_text=_("A telephone number or an e-mail address: at least one."))
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    preferred_language = forms.ChoiceField(label=_("Language we should use"), choices=settings.LANGUAGES)
    concern = forms.CharField(label=_("How can we help?"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
                              help_text=_("For example your diagnosis, or what you are worried about. "
                                          "Do not send emergencies here: call 911."))
    cancer_type_text = forms.CharField(label=_("Type of cancer, if known"), max_length=200, required=False)
    referral_source = forms.ChoiceField(label=_("How did you hear about the program?"),
                                        choices=[("", _("Choose one")), *ReferralSource.choices])
    consent_to_contact = forms.BooleanField(
        label=_("I agree that the Cancer Liaison Program may contact me about this request."), required=False)
    # Honeypot: hidden from people (and from assistive technology); automated submitters fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The language the page is shown in is the one we should most likely use.
        self.fields["preferred_language"].initial = translation.get_language() or settings.LANGUAGE_CODE

    def to_data(self) -> SelfReferralData:
        d = self.cleaned_data
        return SelfReferralData(
            given_name=d["given_name"], family_name=d["family_name"], birth_date=d["birth_date"],
            concern=d["concern"], referral_source=d["referral_source"], phone=d["phone"], email=d["email"],
            cancer_type_text=d["cancer_type_text"], preferred_language=d["preferred_language"],
            consent_to_contact=d["consent_to_contact"],
        )


class ProviderReferralForm(forms.Form):
    receiving_organization = forms.TypedChoiceField(label="Refer to", coerce=int)
    referring_organization = forms.TypedChoiceField(label="Referring from", coerce=int)
    urgency = forms.ChoiceField(label="Urgency", choices=Urgency.choices, initial=Urgency.ROUTINE,
                                widget=forms.RadioSelect)
    given_name = forms.CharField(label="Given name", max_length=100, required=False, widget=forms.TextInput(OFF))
    family_name = forms.CharField(label="Family name", max_length=100, required=False, widget=forms.TextInput(OFF))
    birth_date = forms.DateField(label="Date of birth", required=False, widget=DATE)
    gender = forms.ChoiceField(label="Administrative gender", required=False,
                               choices=[("", "Not stated"), *AdministrativeGender.choices])
    phone = forms.CharField(label="Patient's telephone", max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    email = forms.CharField(label="Patient's e-mail", max_length=254, required=False,
                            widget=forms.EmailInput(OFF))
    preferred_language = forms.ChoiceField(label="Preferred language", choices=LANGUAGES, initial="en")
    mrn = forms.CharField(label="MRN at the referring organisation", max_length=100, required=False,
                          widget=forms.TextInput(OFF))
    # Required by the service, which reports it together with the other missing details.
    reason = forms.CharField(label="Reason for referral", max_length=4000, required=False,
                             widget=forms.Textarea(attrs={"rows": 4}))
    cancer_type_text = forms.CharField(label="Cancer type, as known", max_length=200, required=False)
    stage_text = forms.CharField(label="Stage, as known", max_length=40, required=False,
                                 help_text="For example IIIA, or 'unknown'.")
    requested_services = forms.MultipleChoiceField(label="Services requested", choices=RequestedService.choices,
                                                   widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args: Any, receiving: list[tuple[int, str]], referring: list[tuple[int, str]],
                 person_known: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person_known = person_known
        cast(forms.ChoiceField, self.fields["receiving_organization"]).choices = receiving
        cast(forms.ChoiceField, self.fields["referring_organization"]).choices = referring
        for name, options in (("receiving_organization", receiving), ("referring_organization", referring)):
            if len(options) == 1:
                self.fields[name].initial = options[0][0]
                self.fields[name].widget = forms.HiddenInput()
        if person_known:
            for name in ("given_name", "family_name", "birth_date", "gender", "phone", "email",
                         "preferred_language", "mrn"):
                del self.fields[name]

    def to_data(self, *, patient_id: int | None, mrn_system: str,
                attachments: list[AttachmentData]) -> ReferralData:
        d = self.cleaned_data
        data = ReferralData(
            reason=d["reason"], urgency=d["urgency"], receiving_organization_id=d["receiving_organization"],
            referring_organization_id=d["referring_organization"], patient_id=patient_id,
            cancer_type_text=d["cancer_type_text"], stage_text=d["stage_text"],
            requested_services=list(d["requested_services"]), attachments=attachments,
        )
        if not self.person_known:
            data.given_name, data.family_name, data.birth_date = d["given_name"], d["family_name"], d["birth_date"]
            data.gender, data.phone, data.email = d["gender"], d["phone"], d["email"]
            data.preferred_language = d["preferred_language"]
            if d["mrn"].strip():
                data.identifier_system, data.identifier_value = mrn_system, d["mrn"].strip()
        return data


class AttachmentForm(forms.Form):
    name = forms.CharField(label="Document", max_length=200, required=False,
                           help_text="e.g. Pathology report")
    content_type = forms.ChoiceField(label="Type", required=False, choices=[
        ("", "—"), ("application/pdf", "PDF"), ("image/jpeg", "Image"), ("application/dicom", "DICOM imaging"),
        ("text/plain", "Text"), ("application/fhir+json", "FHIR document"), ("other", "Other")])
    size_kb = forms.IntegerField(label="Size (KB)", min_value=0, max_value=50_000_000, required=False)
    document_date = forms.DateField(label="Date", required=False, widget=DATE)


AttachmentFormSet = forms.formset_factory(AttachmentForm, extra=3, max_num=20)


def attachments_from(formset: Any) -> list[AttachmentData]:
    out = []
    for f in formset.forms:
        d = getattr(f, "cleaned_data", None) or {}
        if d.get("name", "").strip():
            size = d.get("size_kb")
            out.append(AttachmentData(name=d["name"], content_type=d.get("content_type") or "",
                                      size_bytes=size * 1024 if size is not None else None,
                                      document_date=d.get("document_date")))
    return out


class RequestInfoForm(forms.Form):
    message = forms.CharField(label="What is needed", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=[("", "Choose a reason"), *DeclineReason.choices])
    message = forms.CharField(label="Message to the referrer", max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Included in the letter, e.g. where else to refer.")


class MilestoneForm(forms.Form):
    at = forms.DateTimeField(label="When", input_formats=DATETIME_FORMATS, widget=DATETIME)
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AcceptForm(forms.Form):
    """``choice`` is ``new`` or ``link-<patient id>`` (one of the candidates shown)."""

    choice = forms.CharField(max_length=40)
    duplicates_reviewed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    gender = forms.ChoiceField(label="Administrative gender (the referral did not state it)", required=False,
                               choices=[("", "Not known"), *AdministrativeGender.choices])
    first_contact_at = forms.DateTimeField(
        label="First contact with the person", required=False, input_formats=DATETIME_FORMATS, widget=DATETIME,
        help_text="When you (or a colleague) first spoke with them about this referral; leave empty if no one "
                  "has yet.")

    def clean_choice(self) -> str:
        value: str = self.cleaned_data["choice"]
        if value != "new" and not (value.startswith("link-") and value[5:].isdigit()):
            raise forms.ValidationError("Choose an existing record or a new registration.")
        return value


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.txt"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data]
        return [one(data, initial)] if data else []


class ReplyForm(forms.Form):
    message = forms.CharField(label="Your reply", max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))
    documents = MultipleFileField(label="Documents", required=False,
                              help_text="PDF, JPEG, PNG or plain text; up to 5 files of at most 10 MB each.")

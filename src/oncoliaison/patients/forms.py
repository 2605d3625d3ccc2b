"""Forms of the patient pages.  They check the shape of the input; the services check the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from oncoliaison.core import clock
from oncoliaison.organisations.models import Organization

from .models import AdministrativeGender, ConsentKind, EmergencyReason, ProxyScope
from .services import ConsentData, EmergencyAccessRequest, IdentifierData, PatientData

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

LANGUAGES = [
    ("en", _("English")), ("es", _("Spanish")), ("zh", _("Chinese")), ("vi", _("Vietnamese")), ("ar", _("Arabic")),
    ("fr", _("French")), ("ht", _("Haitian Creole")), ("ko", _("Korean")), ("ru", _("Russian")),
    ("pt", _("Portuguese")), ("tl", _("Tagalog")), ("so", _("Somali")), ("ase", _("American Sign Language")),
]


class PatientSearchForm(forms.Form):
    text = forms.CharField(label="Name", required=False, max_length=100,
                           widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
    birth_date = forms.DateField(label="Date of birth", required=False, widget=DATE)
    identifier = forms.CharField(label="MRN", required=False, max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not (data.get("text", "").strip() or data.get("birth_date")
                                    or data.get("identifier", "").strip()):
            raise forms.ValidationError("Enter a name, a date of birth or an MRN to search.")
        return data


class PatientForm(forms.Form):
    organization = forms.TypedChoiceField(label="Managing organisation", coerce=int)
    given_name = forms.CharField(label="Given name", max_length=100,
                                 error_messages={"required": "Enter the given name."},
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(label="Family name", max_length=100,
                                  error_messages={"required": "Enter the family name."},
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = forms.DateField(label="Date of birth", widget=DATE,
                                 error_messages={"required": "Enter the date of birth.",
                                                 "invalid": "Enter the date of birth as a real date."})
    gender = forms.ChoiceField(label="Administrative gender", choices=AdministrativeGender.choices)
    mrn = forms.CharField(label="Medical record number (MRN)", max_length=100, required=False,
                          help_text="As assigned by the managing organisation.")
    phone = forms.CharField(label="Phone", max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    email = forms.EmailField(label="E-mail", required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    address_line = forms.CharField(label="Street address", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    state = forms.CharField(label="State", max_length=100, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=20, required=False)
    preferred_language = forms.ChoiceField(label="Preferred language", choices=LANGUAGES, initial="en")
    interpreter_needed = forms.BooleanField(label="Needs an interpreter", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organizations: list[Organization] | None = None, editing: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            # Registration identifiers and the managing organisation do not change on this page.
            del self.fields["organization"]
            del self.fields["mrn"]
            self.fields["version"].required = True
        else:
            del self.fields["version"]
            orgs = organizations or []
            cast(forms.ChoiceField, self.fields["organization"]).choices = [(o.pk, o.name) for o in orgs]
            if len(orgs) == 1:
                self.fields["organization"].initial = orgs[0].pk
                self.fields["organization"].widget = forms.HiddenInput()

    def clean_birth_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["birth_date"]
        if value > clock.today():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        return value

    def to_data(self, *, organization_mrn_system: str = "") -> PatientData:
        d = self.cleaned_data
        identifiers = None
        if not self.editing:
            identifiers = []
            if d.get("mrn", "").strip():
                identifiers.append(IdentifierData(system=organization_mrn_system, value=d["mrn"].strip(),
                                                  type_code="MR", organization_id=d["organization"]))
        return PatientData(
            given_name=d["given_name"], family_name=d["family_name"], birth_date=d["birth_date"],
            gender=d["gender"], organization_id=d.get("organization"), phone=d["phone"], email=d["email"],
            address_line=d["address_line"], city=d["city"], state=d["state"], postal_code=d["postal_code"],
            country="US" if any(d[k] for k in ("address_line", "city", "state", "postal_code")) else "",
            preferred_language=d["preferred_language"], interpreter_needed=d["interpreter_needed"],
            identifiers=identifiers,
        )


# Service field names -> this page's field names.
PATIENT_ERROR_FIELDS = {"identifiers": "mrn"}
CONSENT_ERROR_FIELDS = {"grantee_user": "caregiver_username", "period": "period_end"}


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of consent", choices=ConsentKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose the kind of consent."})
    grantee_organization = forms.ModelChoiceField(
        label="Share with organisation", queryset=Organization.objects.filter(active=True), required=False,
        help_text="For data sharing: the organisation that may see this patient's record.",
    )
    caregiver_username = forms.CharField(
        label="Caregiver's user name", max_length=150, required=False,
        help_text="For caregiver proxy access: the user name of the caregiver's own OncoLiaison account.",
    )
    proxy_scope = forms.ChoiceField(label="What the caregiver may do", required=False,
                                    choices=[("", "—"), *ProxyScope.choices])
    period_start = forms.DateField(label="From", required=False, widget=DATE)
    period_end = forms.DateField(label="Until", required=False, widget=DATE,
                                 help_text="Leave empty for “until revoked”.")
    note = forms.CharField(label="Note", required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, allowed_kinds: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed_kinds is not None:
            cast(forms.ChoiceField, self.fields["kind"]).choices = [
                c for c in ConsentKind.choices if c[0] in allowed_kinds
            ]

    def to_data(self, grantee_user_id: int | None) -> ConsentData:
        d = self.cleaned_data
        kind = d["kind"]
        org = d.get("grantee_organization")
        return ConsentData(
            kind=kind,
            grantee_organization_id=org.pk if org and kind == ConsentKind.DATA_SHARING else None,
            grantee_user_id=grantee_user_id if kind == ConsentKind.CAREGIVER_PROXY else None,
            proxy_scope=d.get("proxy_scope", "") if kind == ConsentKind.CAREGIVER_PROXY else "",
            period_start=d.get("period_start"), period_end=d.get("period_end"), note=d.get("note", ""),
        )


class EmergencyAccessForm(forms.Form):
    """Break the glass: which patient (MRN and date of birth), why, and the person's own words."""

    mrn = forms.CharField(label="Patient's MRN", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = forms.DateField(label="Patient's date of birth", widget=DATE)
    reason = forms.ChoiceField(label="Reason", choices=[("", "Choose…"), *EmergencyReason.choices])
    justification = forms.CharField(
        label="Why you need this record now", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The privacy officer reads this. Say what is happening and why the care team cannot help.")
    acknowledge = forms.BooleanField(
        label="I understand that this access is recorded, time-limited and reviewed by the privacy officer, "
              "and that the patient can see who read their messages.")

    def to_data(self) -> EmergencyAccessRequest:
        d = self.cleaned_data
        return EmergencyAccessRequest(mrn=d["mrn"], birth_date=d["birth_date"], reason=d["reason"],
                                      justification=d["justification"])


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(label="Review finding", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

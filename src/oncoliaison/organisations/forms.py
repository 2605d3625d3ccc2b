"""Forms of the network directory and membership administration."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import OrganizationKind, Role
from .services import OrganizationData

_DAYS = [("", "—"), *[(str(i), name) for i, name in enumerate(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])]]


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    slug = forms.SlugField(label="Short name", max_length=64, required=False,
                           help_text="Letters, digits and hyphens; made from the name if left empty.")
    kind = forms.ChoiceField(label="Kind", choices=OrganizationKind.choices)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    email = forms.EmailField(label="E-mail", required=False)
    address_line = forms.CharField(label="Street address", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    state = forms.CharField(label="State", max_length=100, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=20, required=False)
    identifier_value = forms.CharField(label="NPI of the facility", max_length=100, required=False)
    urgent_phone = forms.CharField(
        label="Urgent line for patients (24 hours)", max_length=40, required=False,
        help_text="Answered day and night. Patients told to call about severe symptoms or fever see this number.")
    office_phone = forms.CharField(label="Office line for patients", max_length=40, required=False,
                                   help_text="For questions in office hours.")
    office_first_day = forms.TypedChoiceField(label="Office open from", choices=_DAYS, coerce=int,
                                              empty_value=None, required=False)
    office_last_day = forms.TypedChoiceField(label="Office open until", choices=_DAYS, coerce=int,
                                             empty_value=None, required=False)
    office_opens = forms.TimeField(label="Office opens at", required=False, help_text="e.g. 08:00",
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    office_closes = forms.TimeField(label="Office closes at", required=False, help_text="e.g. 17:00",
                                    widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]  # the short name is an identifier and does not change
            self.fields["version"].required = True
        else:
            del self.fields["version"]

    def to_data(self) -> OrganizationData:
        d = self.cleaned_data
        npi = d["identifier_value"].strip()
        return OrganizationData(
            name=d["name"], kind=d["kind"], slug=d.get("slug", ""), phone=d["phone"], email=d["email"],
            address_line=d["address_line"], city=d["city"], state=d["state"], postal_code=d["postal_code"],
            identifier_system="http://hl7.org/fhir/sid/us-npi" if npi else "", identifier_value=npi,
            urgent_phone=d["urgent_phone"], office_phone=d["office_phone"], office_first_day=d["office_first_day"],
            office_last_day=d["office_last_day"], office_opens=d["office_opens"], office_closes=d["office_closes"],
        )


class MemberAddForm(forms.Form):
    """Either an existing staff account (by user name) or a new one (by name)."""

    MODES = [("existing", "An existing staff account"), ("new", "A new staff account")]

    mode = forms.ChoiceField(label="Who", choices=MODES, initial="existing", widget=forms.RadioSelect)
    username = forms.CharField(label="User name of the existing account", max_length=150, required=False)
    given_name = forms.CharField(label="Given name", max_length=150, required=False)
    family_name = forms.CharField(label="Family name", max_length=150, required=False)
    email = forms.EmailField(label="Work e-mail", required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    title = forms.CharField(label="Title", max_length=120, required=False, help_text="e.g. Medical oncologist")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "existing" and not data.get("username", "").strip():
            self.add_error("username", "Enter the user name of the staff account.")
        if data.get("mode") == "new" and not data.get("family_name", "").strip():
            self.add_error("family_name", "Enter the family name of the new staff member.")
        return data


class MembershipEditForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    title = forms.CharField(label="Title", max_length=120, required=False)
    active = forms.BooleanField(label="Active (untick to deactivate this role)", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

"""Forms of the portal pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oncoliaison.patients.models import ProxyScope

from .rules import SCOPE_CHOICES


class PatientInviteForm(forms.Form):
    email = forms.EmailField(label=_("Patient's e-mail address"),
                             help_text=_("The e-mail says only that an invitation is waiting — no health details."))


class CaregiverGrantForm(forms.Form):
    given_name = forms.CharField(label=_("First name"), max_length=150)
    family_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"),
                             help_text=_("We send this person a link to set up their own account."))
    scope = forms.ChoiceField(label=_("What may this person do?"), choices=SCOPE_CHOICES, widget=forms.RadioSelect,
                              initial=ProxyScope.VIEW)


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(
        label=_("Choose a user name"), max_length=150,
        help_text=_("You will type it to sign in. Letters, digits and . @ + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password1 = forms.CharField(
        label=_("Choose a password"), strip=False,
        help_text=_("At least 10 characters, not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type the password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords are not the same."))
        return data

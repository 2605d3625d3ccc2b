"""Forms of the program pages."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from oncoliaison.core import clock

from .models import EpisodeStatus


class EnrollForm(forms.Form):
    navigator = forms.TypedChoiceField(label="Nurse navigator", coerce=int)
    clp = forms.TypedChoiceField(label="Cancer Liaison Physician", coerce=int)
    start = forms.DateField(label="Start of the episode", widget=forms.DateInput(attrs={"type": "date"},
                                                                                 format="%Y-%m-%d"))

    def __init__(self, *args: Any, navigators: list[tuple[int, str]], clps: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["navigator"]).choices = [("", "Choose a navigator"), *navigators]
        cast(forms.ChoiceField, self.fields["clp"]).choices = [("", "Choose the CLP"), *clps]
        self.fields["start"].initial = clock.today()
        if len(clps) == 1:
            self.fields["clp"].initial = clps[0][0]


class EpisodeStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=EpisodeStatus.choices)
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from oncoliaison.accounts.models import User
from oncoliaison.careplans.models import TaskPriority
from oncoliaison.patients.models import Patient


class WorklistFilterForm(forms.Form):
    navigator = forms.TypedChoiceField(label="Whose list", coerce=int, required=False, empty_value=None)
    priority = forms.ChoiceField(label="Task priority", required=False,
                                 choices=[("", "Any priority"), *TaskPriority.choices])
    sort = forms.ChoiceField(label="Patients sorted by", required=False,
                             choices=[("urgency", "Urgency"), ("name", "Name")])

    def __init__(self, *args: Any, navigators: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["navigator"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "My list")] + [(n.pk, n.get_full_name() or n.username) for n in navigators]


class ReassignForm(forms.Form):
    from_user = forms.TypedChoiceField(label="From navigator", coerce=int)
    to_user = forms.TypedChoiceField(label="To navigator", coerce=int)
    note = forms.CharField(label="Hand-off note", required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="Shown to the navigator who takes over with each patient's hand-off.")
    include_episodes = forms.BooleanField(label="Program episodes (the patients' navigator)", required=False,
                                          initial=True)
    include_tasks = forms.BooleanField(label="Open care-plan tasks", required=False, initial=True)

    def __init__(self, *args: Any, navigators: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(n.pk, n.get_full_name() or n.username) for n in navigators]
        for name in ("from_user", "to_user"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices


class HandoffForm(forms.Form):
    """Hand the patients ticked on a worklist to another navigator, with a note for them."""

    patients = forms.TypedMultipleChoiceField(label="Patients", coerce=int,
                                              error_messages={"required": "Tick at least one patient."})
    to_user = forms.TypedChoiceField(label="Hand off to", coerce=int)
    note = forms.CharField(label="Hand-off note", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="What is pending and what to watch, for the navigator who takes over.",
                           error_messages={"required": "Write a hand-off note for the navigator who takes over."})

    def __init__(self, *args: Any, navigators: Iterable[User] = (), patients: Iterable[Patient] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = [(n.pk, n.get_full_name() or n.username) for n in navigators]
        for name, choices in (("to_user", [("", "Choose a navigator…"), *names]),
                              ("patients", [(p.pk, p.display_name) for p in patients])):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

from __future__ import annotations

from django import forms

from oncoliaison.careplans.models import TaskPriority


class WorklistFilterForm(forms.Form):
    navigator = forms.TypedChoiceField(label="Whose list", coerce=int, required=False, empty_value=None)
    priority = forms.ChoiceField(label="Task priority", required=False,
                                 choices=[("", "Any priority"), *TaskPriority.choices])
    sort = forms.ChoiceField(label="Patients sorted by", required=False,
                             choices=[("urgency", "Urgency"), ("name", "Name")])

    def __init__(self, *args, navigators=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["navigator"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "My list")] + [(n.pk, n.get_full_name() or n.username) for n in navigators]


class ReassignForm(forms.Form):
    from_user = forms.TypedChoiceField(label="From navigator", coerce=int)
    to_user = forms.TypedChoiceField(label="To navigator", coerce=int)
    include_episodes = forms.BooleanField(label="Program episodes (the patients' navigator)", required=False,
                                          initial=True)
    include_tasks = forms.BooleanField(label="Open care-plan tasks", required=False, initial=True)

    def __init__(self, *args, navigators=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        choices = [(n.pk, n.get_full_name() or n.username) for n in navigators]
        for name in ("from_user", "to_user"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

"""Forms of the resource-directory admin (shape only; the services validate meaning)."""

from __future__ import annotations

from typing import Any

from django import forms

from oncoliaison.assessments.rules import NEEDS

from .models import Resource, ResourceAudience, ResourceCategory, ResourceCost
from .rules import CANCER_TYPES

NEED_CHOICES: list[tuple[str, str]] = sorted(NEEDS.items(), key=lambda kv: kv[1])


class ResourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=ResourceCategory.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    audience = forms.ChoiceField(choices=ResourceAudience.choices, initial=ResourceAudience.BOTH)
    needs = forms.MultipleChoiceField(
        choices=NEED_CHOICES, widget=forms.CheckboxSelectMultiple,
        help_text="The needs this resource helps with; used to recommend it.",
    )
    cancer_types = forms.MultipleChoiceField(
        choices=[(k, v[0]) for k, v in CANCER_TYPES.items()], widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Leave empty when it is for any cancer.",
    )
    languages = forms.CharField(
        max_length=100, initial="en", help_text="Language codes, separated by commas, e.g. en, es",
    )
    eligibility = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    cost = forms.ChoiceField(choices=ResourceCost.choices, initial=ResourceCost.FREE)
    cost_note = forms.CharField(max_length=200, required=False)
    contact = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40, required=False)
    url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    active = forms.BooleanField(required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, instance_values: Resource | None = None, **kwargs: Any) -> None:
        if instance_values is not None and not args:
            kwargs.setdefault("initial", {
                "name": instance_values.name, "category": instance_values.category,
                "description": instance_values.description, "audience": instance_values.audience,
                "needs": instance_values.needs, "cancer_types": instance_values.cancer_types,
                "languages": ", ".join(instance_values.languages), "eligibility": instance_values.eligibility,
                "cost": instance_values.cost, "cost_note": instance_values.cost_note,
                "contact": instance_values.contact, "phone": instance_values.phone, "url": instance_values.url,
                "active": instance_values.active, "version": instance_values.version,
            })
        super().__init__(*args, **kwargs)

    def clean_languages(self) -> list[str]:
        raw = self.cleaned_data["languages"]
        return [part.strip().lower() for part in raw.replace(";", ",").split(",") if part.strip()]
